"""The `integrations` command: run the platform, mint dev tokens, manage keys, topics and
schemas."""

import typer

from integrations.cli import dev, dlq, keys, schemas, serve, token, topics, triggers

app = typer.Typer(
    name="integrations",
    help="Integrations platform: services, keys, topics and schemas.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("dev")(dev.dev)
app.command("serve")(serve.serve)
app.command("token")(token.token)
app.command("schemas")(schemas.schemas)
app.add_typer(keys.app, name="keys")
app.add_typer(topics.app, name="topics")
app.add_typer(dlq.app, name="dlq")
app.add_typer(triggers.app, name="triggers")

if __name__ == "__main__":
    app()
