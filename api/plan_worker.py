"""Entry point of a plan-job worker process: `python -m api.plan_worker PLAN_ID SERVER_PID`.

The database URL comes from the environment (api.jobs.WORKER_DB_ENV), not the command line.
"""

from __future__ import annotations

import os
import sys

from api.jobs import WORKER_DB_ENV, run_job


def main() -> None:
    """Run the job named on the command line."""
    plan_id, parent_pid = sys.argv[1], int(sys.argv[2])
    run_job(os.environ[WORKER_DB_ENV], plan_id, parent_pid)


if __name__ == "__main__":
    main()
