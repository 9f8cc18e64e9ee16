import asyncio
import os
from typing import Annotated

import typer

from integrations.bus.admin import ensure_topics
from integrations.contracts.topics import TOPICS

app = typer.Typer(help="Kafka topics of the contract (partitions, retention, compaction).")


@app.command("create")
def create(
    bootstrap_servers: Annotated[
        str, typer.Option(help="Kafka bootstrap servers; default $KAFKA_BOOTSTRAP_SERVERS.")
    ] = "",
    replication_factor: Annotated[
        int | None, typer.Option(help="Default: min(3, brokers).")
    ] = None,
) -> None:
    """Create every topic that does not exist yet; existing topics are left as they are."""
    servers = bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    outcomes = asyncio.run(ensure_topics(servers, TOPICS, replication_factor=replication_factor))
    for outcome in outcomes:
        typer.echo(f"{outcome.outcome:>8}  {outcome.name}")
