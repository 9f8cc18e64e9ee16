from pathlib import Path
from typing import Annotated

import typer

from integrations.api_documents import write_api_documents


def schemas(
    folder: Annotated[Path, typer.Argument(help="The docs folder.")] = Path("docs"),
) -> None:
    """Write every service's OpenAPI document (FOLDER/openapi/) and the AsyncAPI document of
    every topic with the JSON Schema of every message (FOLDER/schemas/)."""
    written = write_api_documents(folder)
    typer.echo(f"wrote {len(written)} files under {folder}")
