import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrations.auth import AuthConfig, build_verifier
from integrations.cli.main import app
from integrations.contracts import registered_types
from integrations.crypto import Cipher, KeyRing, Purpose
from integrations.embedded.dev_secrets import load_or_create

pytestmark = pytest.mark.unit

runner = CliRunner()


def test_keys_generate_prints_a_usable_root_ring() -> None:
    result = runner.invoke(app, ["keys", "generate"])
    assert result.exit_code == 0, result.output
    ring = KeyRing.parse(result.output.strip())
    cipher = Cipher.from_key_ring(ring.export(), Purpose.CREDENTIALS)
    assert cipher.decrypt_text(cipher.encrypt_text("s3cret")) == "s3cret"


def test_keys_generate_with_a_ring_puts_a_new_primary_in_front() -> None:
    old = runner.invoke(app, ["keys", "generate"]).output.strip()
    rotated = KeyRing.parse(runner.invoke(app, ["keys", "generate", "--ring", old]).output.strip())
    assert len(rotated) == 2
    assert rotated.kids[1] == KeyRing.parse(old).kids[0]


def test_keys_derive_gives_a_ring_of_one_purpose(monkeypatch: pytest.MonkeyPatch) -> None:
    root = runner.invoke(app, ["keys", "generate"]).output.strip()
    monkeypatch.setenv("ENCRYPTION_KEYS", root)
    result = runner.invoke(app, ["keys", "derive", "webhook-secrets"])
    assert result.exit_code == 0, result.output
    derived = result.output.strip()
    assert derived.startswith("webhook-secrets/")
    token = Cipher.from_key_ring(root, Purpose.WEBHOOK_SECRETS).encrypt_text("hook")
    assert Cipher.from_key_ring(derived, Purpose.WEBHOOK_SECRETS).decrypt_text(token) == "hook"


async def test_token_is_signed_with_the_dev_secret(tmp_path: Path) -> None:
    secrets = load_or_create(tmp_path)
    result = runner.invoke(app, ["token", "--user", "alice", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    verifier = build_verifier(AuthConfig.model_validate({"jwt_secret": secrets.jwt_secret}))
    user = await verifier.verify(result.output.strip())
    assert user.user_id == "alice"


def test_token_without_any_secret_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    result = runner.invoke(app, ["token", "--user", "a", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "JWT_SECRET" in result.output


def test_schemas_writes_message_schemas_asyncapi_and_every_services_openapi(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["schemas", str(tmp_path)])
    assert result.exit_code == 0, result.output
    schemas = tmp_path / "schemas"
    assert len(list(schemas.glob("*.schema.json"))) == len(registered_types())
    asyncapi = json.loads((schemas / "asyncapi.json").read_text())
    assert asyncapi["asyncapi"].startswith("3.")
    openapi = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "openapi").glob("*.json")}
    assert set(openapi) == {"ingress", "credentials", "oauth", "dispatcher"}
    assert (
        "/api/integrations/{provider}/webhooks/{webhook_id}/ingress" in openapi["ingress"]["paths"]
    )
    assert "/api/integrations/credentials" in openapi["credentials"]["paths"]


def test_the_committed_api_documents_match_the_code(tmp_path: Path) -> None:
    """docs/openapi and docs/schemas are generated: regenerate with `make schemas`."""
    runner.invoke(app, ["schemas", str(tmp_path)])
    docs = Path(__file__).resolve().parents[3] / "docs"
    for folder in ("openapi", "schemas"):
        generated = {p.name: p.read_text() for p in (tmp_path / folder).iterdir()}
        committed = {p.name: p.read_text() for p in (docs / folder).iterdir()}
        assert generated.keys() == committed.keys(), f"docs/{folder}: run `make schemas`"
        drifted = sorted(name for name in generated if generated[name] != committed[name])
        assert not drifted, f"docs/{folder} drifted from the code ({drifted}): run `make schemas`"


def test_serve_rejects_an_unknown_service() -> None:
    result = runner.invoke(app, ["serve", "nope"])
    assert result.exit_code != 0
    assert "unknown service" in result.output
