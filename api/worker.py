"""Entry point of solver workers: `python -m api.worker plan PLAN_ID LIFELINE_FD` (a plan job)
or `python -m api.worker vroom TIME_LIMIT_S LIFELINE_FD` (VROOM JSON on stdin, solution on
stdout).

The process leads its own process group. It forks the job (which imports the solver and
everything heavy) and stays small itself: it waits on the lifeline, a pipe whose write end
only the server holds. When the server dies, however it dies, the pipe reads end-of-file
and the leader kills its whole group at once. When the job ends, the leader kills whatever
the job left running and exits as the job did, so the server reads the job's own exit
status. The database URL comes from the environment (api.jobs.WORKER_DB_ENV).
"""

from __future__ import annotations

import os
import resource
import select
import signal
import sys

_POLL_S = 0.2


def _others_in_group() -> list[int]:
    """Processes of this process group other than this one."""
    group, me = os.getpgrp(), os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                if os.getpgid(int(entry)) == group:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def _exit_like(status: int) -> None:
    """Exit with the wait status of the job: the same code, or death by the same signal."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _plan(plan_id: str) -> None:
    """A plan job (api.jobs.run_job)."""
    from api.jobs import WORKER_DB_ENV, run_job

    run_job(os.environ[WORKER_DB_ENV], plan_id)


def _vroom(time_limit_s: str) -> None:
    """A VROOM problem on stdin, its solution on stdout."""
    import json

    from optimizer.vroom import solve_vroom

    problem = json.load(sys.stdin)
    json.dump(solve_vroom(problem, float(time_limit_s)), sys.stdout)


JOBS = {"plan": _plan, "vroom": _vroom}


def lead(kind: str, arg: str, lifeline: int) -> None:
    """Fork the job, then watch the lifeline and the job until one of them ends."""
    child = os.fork()
    if child == 0:
        os.close(lifeline)
        try:
            JOBS[kind](arg)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(0)
    while True:
        readable, _, _ = select.select([lifeline], [], [], _POLL_S)
        if readable and not os.read(lifeline, 1):  # end of file: the server is gone
            os.killpg(0, signal.SIGKILL)
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            for pid in _others_in_group():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue
            _exit_like(status)


def main() -> None:
    """Run the job named on the command line."""
    lead(sys.argv[1], sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
