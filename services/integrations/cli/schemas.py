from pathlib import Path
from typing import Annotated

import typer

from integrations.contracts.schemas import write_schemas


def schemas(
    folder: Annotated[Path, typer.Argument(help="Output folder.")] = Path("docs/schemas"),
) -> None:
    """Write the JSON Schema of every message and the AsyncAPI document of every topic."""
    written = write_schemas(folder)
    typer.echo(f"wrote {len(written)} files to {folder}")
