"""`integrations triggers activate|deactivate|list`: the credentials service's internal
trigger routes, for operators and scripts (no Kafka needed).

The service token comes from `--service-token`, $SERVICE_TOKEN, or the embedded default's
dev secrets (`var/dev-secrets.json`); the URL from `--url` or $CREDENTIALS_INTERNAL_URL.
"""

import json
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from integrations.embedded.dev_secrets import FILE_NAME, load_or_create

app = typer.Typer(help="Link graph nodes and presets to webhooks, unlink them, list them.")

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0

Url = Annotated[
    str, typer.Option(help="Credentials service base URL; default $CREDENTIALS_INTERNAL_URL.")
]
Token = Annotated[str, typer.Option(help="Service token; default $SERVICE_TOKEN or dev secrets.")]
DataDir = Annotated[Path, typer.Option(help="Embedded data folder holding the dev secrets.")]
User = Annotated[str, typer.Option("--user", help="The user who owns the graph or preset.")]


def http_client(base_url: str, token: str) -> httpx.Client:
    """A seam: tests hand in a client bound to an in-process app."""
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S
    )


def _service_token(explicit: str, data_dir: Path) -> str:
    token = explicit or os.environ.get("SERVICE_TOKEN", "")
    if token:
        return token
    if not (data_dir / FILE_NAME).exists():
        raise typer.BadParameter(
            f"pass --service-token, set SERVICE_TOKEN, or run `integrations dev` once to create "
            f"{data_dir / FILE_NAME}"
        )
    return load_or_create(data_dir).service_token


def _call(method: str, path: str, url: str, token: str, data_dir: Path, body: Any = None) -> Any:
    base_url = url or os.environ.get("CREDENTIALS_INTERNAL_URL", DEFAULT_URL)
    with http_client(base_url, _service_token(token, data_dir)) as client:
        try:
            response = client.request(method, path, json=body)
        except httpx.HTTPError as error:
            typer.echo(f"cannot reach {base_url}: {type(error).__name__}", err=True)
            raise typer.Exit(1) from None
    if response.is_error:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.reason_phrase
        typer.echo(f"{response.status_code}: {message}", err=True)
        raise typer.Exit(1)
    return response.json()


@app.command("activate")
def activate(
    user: User,
    provider: Annotated[str, typer.Option(help="Provider that sends the events.")],
    webhook_type: Annotated[str, typer.Option("--type", help="Provider webhook type.")],
    graph: Annotated[str, typer.Option(help="Graph of the node or preset.")],
    event: Annotated[list[str], typer.Option(help="Event to subscribe to (repeatable).")],
    node: Annotated[str | None, typer.Option(help="Trigger node to link.")] = None,
    preset: Annotated[str | None, typer.Option(help="Preset to link (instead of a node).")] = None,
    trigger_node: Annotated[
        str | None, typer.Option(help="The graph's webhook input node (presets).")
    ] = None,
    graph_version: Annotated[int, typer.Option(help="Version of the graph.")] = 1,
    resource: Annotated[str, typer.Option(help="Provider resource, e.g. owner/repo.")] = "",
    credentials: Annotated[
        str | None, typer.Option(help="Credentials id to register with (auto webhooks).")
    ] = None,
    manual: Annotated[bool, typer.Option(help="A manual webhook: paste its URL yourself.")] = False,
    url: Url = "",
    service_token: Token = "",
    data_dir: DataDir = Path("var"),
) -> None:
    """Link a node (--node) or preset (--preset) to a webhook; prints its id and ingress URL."""
    if (node is None) == (preset is None):
        raise typer.BadParameter("give exactly one of --node and --preset")
    body: dict[str, Any] = {
        "user_id": user,
        "provider": provider,
        "webhook_type": webhook_type,
        "resource": resource,
        "events": event,
        "credentials_id": credentials,
        "manual": manual,
        "graph_id": graph,
        "graph_version": graph_version,
    }
    if node is not None:
        path, body = "/internal/triggers/activate-node", body | {"node_id": node}
    else:
        if trigger_node is None:
            raise typer.BadParameter("a preset needs --trigger-node")
        path = "/internal/triggers/activate-preset"
        body |= {"preset_id": preset, "trigger_node_id": trigger_node}
    answer = _call("POST", path, url, service_token, data_dir, body)
    typer.echo(json.dumps(answer, indent=2))


@app.command("deactivate")
def deactivate(
    user: User,
    node: Annotated[str | None, typer.Option(help="Trigger node to unlink.")] = None,
    graph: Annotated[str | None, typer.Option(help="Graph of the node.")] = None,
    graph_version: Annotated[int, typer.Option(help="Version of the graph.")] = 1,
    preset: Annotated[str | None, typer.Option(help="Preset to deactivate.")] = None,
    unlink: Annotated[
        bool, typer.Option(help="Unlink the preset instead of marking it inactive.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (presets).")] = "operator_request",
    url: Url = "",
    service_token: Token = "",
    data_dir: DataDir = Path("var"),
) -> None:
    """Unlink a node (--node, --graph) or deactivate a preset (--preset [--unlink]); a webhook
    left without triggers is pruned."""
    if (node is None) == (preset is None):
        raise typer.BadParameter("give exactly one of --node and --preset")
    if node is not None:
        if graph is None:
            raise typer.BadParameter("a node needs --graph")
        path = "/internal/triggers/deactivate-node"
        body: dict[str, Any] = {
            "user_id": user,
            "graph_id": graph,
            "graph_version": graph_version,
            "node_id": node,
        }
    else:
        path = "/internal/triggers/deactivate-preset"
        body = {"user_id": user, "preset_id": preset, "unlink": unlink, "reason": reason}
    answer = _call("POST", path, url, service_token, data_dir, body)
    typer.echo(json.dumps(answer, indent=2))


@app.command("list")
def list_webhooks(
    user: User, url: Url = "", service_token: Token = "", data_dir: DataDir = Path("var")
) -> None:
    """The user's webhooks, one per line, with what they trigger."""
    webhooks = _call("GET", f"/internal/users/{user}/webhooks", url, service_token, data_dir)
    for webhook in webhooks:
        nodes = ",".join(t["node_id"] for t in webhook["node_triggers"]) or "-"
        presets = ",".join(t["preset_id"] for t in webhook["preset_triggers"]) or "-"
        kind = "manual" if webhook["manual"] else "auto"
        typer.echo(
            f"{webhook['webhook_id']}  {webhook['provider']}/{webhook['webhook_type']}  {kind}  "
            f"events={','.join(webhook['events'])}  nodes={nodes}  presets={presets}  "
            f"{webhook['ingress_url']}"
        )
    if not webhooks:
        typer.echo("no webhooks")
