"""Kafka and a MongoDB-wire server on this machine, without Docker (`make infra`).

    python deploy/local/infra.py [--workdir var/infra]

Starts the test harness's real Apache Kafka (KRaft) and FerretDB, creates the contract's
topics, prints the environment to export, and stops both on Ctrl-C. Data stays in the
work directory, so a restart finds its topics and documents.
"""

import argparse
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
# The harness lives in the repository's tests package, not in the installed one.
sys.path.insert(0, str(ROOT))

from tests.harness.local_stack import running_infra  # noqa: E402


def stop_on_signal() -> threading.Event:
    """Set on Ctrl-C or SIGTERM. Installed before anything is printed, so a signal sent as
    soon as the output appears stops cleanly instead of raising KeyboardInterrupt."""
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    return stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "infra")
    args = parser.parse_args()
    with running_infra(args.workdir) as infra:
        stopped = stop_on_signal()
        for name, value in infra.env().items():
            print(f"export {name}={shlex.quote(value)}")
        print("# Kafka and MongoDB are up; Ctrl-C stops them.", file=sys.stderr, flush=True)
        sys.stdout.flush()
        stopped.wait()
    print("# stopped", file=sys.stderr)


if __name__ == "__main__":
    main()
