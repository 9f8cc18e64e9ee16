import os
from typing import Annotated

import typer

from integrations.cli import rotate
from integrations.crypto import KeyRing, Purpose, generate_root_key

app = typer.Typer(
    help="Encryption keys: generate root keys, derive per-purpose rings, rotate stored secrets."
)


@app.command("generate")
def generate(
    ring: Annotated[
        str | None,
        typer.Option(help="An existing root key ring; the new key is put first (primary)."),
    ] = None,
) -> None:
    """Print a new root key ring, or RING with a new primary key in front (rotation)."""
    key = generate_root_key()
    current = KeyRing.parse(ring) if ring else None
    rotated = current.with_primary(key) if current else KeyRing([key])
    typer.echo(rotated.export())


@app.command("derive")
def derive(
    purpose: Annotated[Purpose, typer.Argument(help="credentials, webhook-secrets or transport.")],
) -> None:
    """Print the ring of one purpose derived from $ENCRYPTION_KEYS (e.g. for ingress)."""
    ring_text = os.environ.get("ENCRYPTION_KEYS")
    if not ring_text:
        raise typer.BadParameter("set ENCRYPTION_KEYS to the root key ring")
    typer.echo(KeyRing.parse(ring_text).derive(purpose).export())


app.command("rotate")(rotate.rotate)
