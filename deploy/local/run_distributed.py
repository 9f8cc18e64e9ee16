"""The four services as separate processes on this machine (`integrations serve X` each).

    python deploy/local/run_distributed.py [--workdir var/distributed]

With `KAFKA_BOOTSTRAP_SERVERS` and `DATABASE_URL` in the environment (from
`deploy/local/infra.py`) it uses them; without, it starts that infrastructure itself.
Each service gets its own port and only the keys it needs; fresh secrets every run.
Logs go to the work directory; Ctrl-C stops everything.
"""

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The harness lives in the repository's tests package, not in the installed one.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from infra import stop_on_signal  # noqa: E402

from tests.harness.local_stack import running_infra, running_services  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "distributed")
    args = parser.parse_args()
    with ExitStack() as stack:
        if "KAFKA_BOOTSTRAP_SERVERS" in os.environ and "DATABASE_URL" in os.environ:
            infra_env = {
                "KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                "DATABASE_URL": os.environ["DATABASE_URL"],
            }
        else:
            infra_env = stack.enter_context(running_infra(args.workdir / "infra")).env()
        services = stack.enter_context(running_services(infra_env, args.workdir / "logs"))
        stopped = stop_on_signal()
        for service in services:
            print(f"{service.name:<12} {service.url}  (log {service.log_path})", flush=True)
        print("# all ready; Ctrl-C stops them.", file=sys.stderr, flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
