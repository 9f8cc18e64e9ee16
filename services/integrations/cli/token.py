import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from integrations.auth import issue_dev_token
from integrations.embedded.dev_secrets import FILE_NAME, load_or_create


def token(
    user: Annotated[str, typer.Option(help="The user id (`sub`) of the token.")],
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
    data_dir: Annotated[
        Path, typer.Option(help="Embedded data folder holding the dev JWT secret.")
    ] = Path("var"),
) -> None:
    """Print a bearer token for USER, signed with $JWT_SECRET or the embedded dev secret."""
    secret = os.environ.get("JWT_SECRET")
    if not secret:
        if not (data_dir / FILE_NAME).exists():
            raise typer.BadParameter(
                f"set JWT_SECRET or run `integrations dev` once to create {data_dir / FILE_NAME}"
            )
        secret = load_or_create(data_dir).jwt_secret
    typer.echo(issue_dev_token(secret, user, timedelta(seconds=ttl)))
