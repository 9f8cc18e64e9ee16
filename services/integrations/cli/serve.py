from typing import Annotated

import typer
import uvicorn

from integrations.catalog import SERVICES
from integrations.standalone import build_standalone_app


def serve(
    service: Annotated[str, typer.Argument(help="ingress, credentials, oauth or dispatcher.")],
) -> None:
    """Run one service alone against Kafka and MongoDB (settings from the environment)."""
    definition = SERVICES.get(service)
    if definition is None:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    settings = definition.load_settings()
    app = build_standalone_app(definition)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None)
