"""`integrations triggers`: the internal trigger routes from the command line."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from integrations.auth import AuthConfig
from integrations.bus import InMemoryBus
from integrations.cli import triggers
from integrations.credentials.entrypoints import webhook_routes
from integrations.embedded.dev_secrets import load_or_create
from integrations.runtime.hosting import host_units
from integrations.runtime.unit import ServiceUnit
from integrations.storage import open_database
from tests.unit.credentials_webhooks.kit import (
    JWT_SECRET,
    SERVICE_TOKEN,
    USER,
    FakeCredentials,
    FakeGitHub,
    make_context,
)
from tests.unit.credentials_webhooks.serving import serve_in_thread

pytestmark = pytest.mark.unit

runner = CliRunner()


@pytest.fixture
def github() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch, github: FakeGitHub) -> Iterator[list[str]]:
    """The webhook routes in process; the tokens the CLI authenticated with."""
    credentials = FakeCredentials()
    credentials.add()
    bus = InMemoryBus()
    database = open_database("memory://", name="cli")
    ctx = make_context(database, bus, github, credentials)
    unit = ServiceUnit(
        name="credentials",
        routers=[webhook_routes.build_internal_router(ctx)],
        on_stop=database.close,
    )
    auth = AuthConfig.model_validate({"jwt_secret": JWT_SECRET, "service_token": SERVICE_TOKEN})
    app = host_units([unit], title="credentials", version="0", bus=bus, auth=auth)
    tokens: list[str] = []
    real_client = triggers.http_client
    with serve_in_thread(app) as url:

        def recording(base_url: str, token: str) -> httpx.Client:
            tokens.append(token)
            return real_client(base_url, token)

        monkeypatch.setattr(triggers, "http_client", recording)
        monkeypatch.setenv("CREDENTIALS_INTERNAL_URL", url)
        yield tokens


def invoke(*args: str) -> str:
    result = runner.invoke(triggers.app, [*args, "--service-token", SERVICE_TOKEN])
    assert result.exit_code == 0, result.output
    return result.output


def test_activate_list_and_deactivate(service: list[str], github: FakeGitHub) -> None:
    common = ["--user", USER, "--provider", "github", "--type", "repo", "--graph", "g1"]
    activated = json.loads(
        invoke(
            "activate",
            *common,
            "--node",
            "n1",
            "--event",
            "pull_request.opened",
            "--resource",
            "octo/repo",
            "--credentials",
            "cred-gh",
        )
    )
    webhook_id = activated["webhook_id"]
    assert activated["ingress_url"].endswith(f"/github/webhooks/{webhook_id}/ingress")
    manual = json.loads(
        invoke(
            "activate",
            "--user",
            USER,
            "--provider",
            "generic_webhook",
            "--type",
            "plain",
            "--graph",
            "g2",
            "--preset",
            "p1",
            "--trigger-node",
            "t1",
            "--event",
            "any",
            "--manual",
        )
    )
    assert manual["manual"] is True
    listing = invoke("list", "--user", USER)
    assert f"{webhook_id}  github/repo  auto" in listing
    assert "nodes=n1" in listing
    assert "presets=p1" in listing
    assert len(github.hooks) == 1
    unlinked = json.loads(invoke("deactivate", "--user", USER, "--node", "n1", "--graph", "g1"))
    assert unlinked["webhooks"][0]["pruned"] is True
    assert github.hooks == {}
    invoke("deactivate", "--user", USER, "--preset", "p1", "--unlink")
    assert "no webhooks" in invoke("list", "--user", USER)
    assert set(service) == {SERVICE_TOKEN}


def test_failures_print_the_reason_and_exit_1(service: list[str]) -> None:
    result = runner.invoke(
        triggers.app,
        [
            "activate",
            "--user",
            USER,
            "--provider",
            "github",
            "--type",
            "repo",
            "--graph",
            "g",
            "--node",
            "n",
            "--event",
            "push",
            "--resource",
            "octo/repo",
            "--credentials",
            "nope",
            "--service-token",
            SERVICE_TOKEN,
        ],
    )
    assert result.exit_code == 1
    assert "404: The credentials do not exist" in result.output


def test_the_arguments_must_name_one_trigger(service: list[str]) -> None:
    result = runner.invoke(triggers.app, ["deactivate", "--user", USER])
    assert result.exit_code != 0


def test_the_dev_secrets_provide_the_token(
    service: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    secrets = load_or_create(tmp_path)
    runner.invoke(triggers.app, ["list", "--user", USER, "--data-dir", str(tmp_path)])
    assert service == [secrets.service_token]  # refused (403) by this service, but sent


def test_without_any_token_it_says_where_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    result = runner.invoke(triggers.app, ["list", "--user", USER, "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "SERVICE_TOKEN" in result.output


def test_an_unreachable_service_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    def client(base_url: str, token: str) -> httpx.Client:
        return httpx.Client(base_url=base_url, transport=httpx.MockTransport(unreachable))

    monkeypatch.setattr(triggers, "http_client", client)
    result = runner.invoke(triggers.app, ["list", "--user", USER, "--service-token", "t"])
    assert result.exit_code == 1
    assert "cannot reach" in result.output
