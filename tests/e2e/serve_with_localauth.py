"""`integrations serve NAME` with one more OAuth provider in the catalogue, `localauth`, whose
endpoints are the test's authorization server (tests/harness/oauth_server.py) at
$LOCALAUTH_BASE_URL.

The catalogue's providers talk to the real internet over HTTPS; a service in a process of its
own cannot be handed a test transport, so the fault tests launch the services through this
script instead of the `integrations` console script (`ServiceProcess(launcher=...)`).
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `tests` is not installed

import integrations.providers.catalogue as catalogue
from integrations.cli.main import app
from tests.harness.oauth_server import local_provider

if __name__ == "__main__":
    # Registries read the catalogue when they are first built, after this line.
    catalogue.CATALOGUE = (*catalogue.CATALOGUE, local_provider(os.environ["LOCALAUTH_BASE_URL"]))
    app()
