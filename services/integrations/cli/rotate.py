import asyncio

import typer

from integrations.credentials.adapters.key_rotation import RotationReport, rotate_keys
from integrations.credentials.bootstrap import load_ciphers
from integrations.credentials.config import CredentialsSettings
from integrations.crypto import Cipher
from integrations.storage import open_database

_SHOWN_FAILURES = 20


def rotate() -> None:
    """Re-encrypt every stored secret under the primary key of $ENCRYPTION_KEYS.

    Safe while the service runs and safe to repeat. Reads DATABASE_URL, DATABASE_NAME and
    ENCRYPTION_KEYS (the new ring, new key first). Exits 1 if any secret could not be
    opened: keep the old keys in the ring until it exits 0.
    """
    settings = CredentialsSettings()
    try:
        at_rest, _ = load_ciphers(settings)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    reports = asyncio.run(_rotate(settings, at_rest))
    for report in reports:
        typer.echo(_line(report))
    if any(report.failed for report in reports):
        raise typer.Exit(1)


async def _rotate(settings: CredentialsSettings, cipher: Cipher) -> list[RotationReport]:
    database = open_database(settings.database_url, name=settings.database_name)
    try:
        return await rotate_keys(database, cipher)
    finally:
        await database.close()


def _line(report: RotationReport) -> str:
    line = (
        f"{report.collection}: {report.scanned} scanned, {report.rotated} rotated, "
        f"{report.current} already current, {report.retried} retried, "
        f"{report.vanished} deleted meanwhile, {len(report.failed)} failed"
    )
    if report.failed:
        shown = ", ".join(report.failed[:_SHOWN_FAILURES])
        more = ", ..." if len(report.failed) > _SHOWN_FAILURES else ""
        line += f" ({shown}{more})"
    return line
