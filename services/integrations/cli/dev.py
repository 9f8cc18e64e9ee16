from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from integrations.auth import issue_dev_token
from integrations.embedded.app import build_embedded_platform

DEV_USER = "dev-user"


def dev(
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option(help="Where the embedded stores live.")] = Path("var"),
) -> None:
    """Run all four services in one process: in-memory bus, SQLite stores, one HTTP port."""
    platform = build_embedded_platform(data_dir, host=host, port=port)
    user_token = issue_dev_token(platform.secrets.jwt_secret, DEV_USER)
    api = f"{platform.base_url}/api/integrations"
    typer.echo(
        f"""
Integrations platform (embedded) on {platform.base_url}
  data:       {data_dir.resolve()} (kept across restarts)
  readiness:  curl -s {platform.base_url}/readyz
  API docs:   {platform.base_url}/docs

Try it:
  curl -s {api}/providers
  export TOKEN=$(.venv/bin/integrations token --user {DEV_USER} --data-dir {data_dir})
  curl -s -H "Authorization: Bearer $TOKEN" {api}/providers/system

Send a first webhook (a manual, unsigned generic webhook that triggers one graph node):
  .venv/bin/integrations triggers activate --user {DEV_USER} --provider generic_webhook \\
      --type plain --graph my-graph --node my-trigger --event plain --manual \\
      --url {platform.base_url} --data-dir {data_dir}
  curl -s -X POST -H 'content-type: application/json' -d '{{"hello": "world"}}' <its ingress_url>
  curl -s -H "Authorization: Bearer $TOKEN" {api}/webhooks/<its webhook_id>/deliveries

A token for {DEV_USER}, valid one hour:
  {user_token}
"""
    )
    uvicorn.run(platform.app, host=host, port=port, log_config=None)
