"""The local runner: each job in a fresh Python process of its own.

On the CPU, jobs run side by side, one per CPU this process may use (a smoke job trains on one thread); on a GPU,
one at a time, since a full job wants the whole card.

The job process is started with ``python -c`` in a new session (so in a process group of its own), gets its
function and arguments from a pickle file and writes its envelope (see ``_job``) to another, and its training
progress to a third, which the runner reads every second while it waits (``progress``). A job that
crashes, exits or overruns its wall-clock limit costs that job only: on a timeout the whole process group is
killed, and after every job whatever the job left behind in its group is killed too.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from graders import budget
from graders.runners import Options, Outcome, limit_words, progress
from graders.runners._job import BOOTSTRAP

POLL_SECONDS = 1.0


def run(jobs: list[tuple[Callable, tuple]], options: Options, device: str) -> list[Outcome]:
    where = f"local {device}"
    with tempfile.TemporaryDirectory(prefix="graders-jobs-") as scratch:
        logs = Path(options.folder) if options.folder is not None else Path(scratch)
        logs.mkdir(parents=True, exist_ok=True)
        side_by_side = 1 if device == "cuda" else max(1, min(len(jobs), len(os.sched_getaffinity(0))))
        with ThreadPoolExecutor(side_by_side) as pool:
            return list(pool.map(
                lambda indexed: _run_one(*indexed[1], options, where, Path(scratch), logs / f"job-{indexed[0]}.log",
                                         indexed[0]),
                enumerate(jobs)))


def _kill_group(pgid: int, settle_s: float = 5.0) -> None:
    """SIGKILL the group, then wait (briefly) until none of it still runs.

    SIGKILL is delivered asynchronously: on a loaded machine a member can run on for a moment, and the next job
    (or the caller's check) would meet it still holding memory. Zombies count as gone.
    """
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + settle_s
    while _running_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _running_members(pgid: int) -> bool:
    """Whether any process of group `pgid` is not yet a zombie (Linux /proc; elsewhere assume none)."""
    if not Path("/proc/self/stat").exists():
        return False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _ppid, group = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if int(group) == pgid and state not in "ZX":
            return True
    return False


def _run_one(fn, args, options: Options, where: str, scratch: Path, log: Path, index: int) -> Outcome:
    payload, result = scratch / f"job-{index}.in", scratch / f"job-{index}.out"
    try:
        blob = pickle.dumps((fn, tuple(args)))
    except Exception as exc:
        return Outcome(False, reason=f"the job could not be handed to its process ({type(exc).__name__}: {exc})",
                       where=where)
    with open(payload, "wb") as f:
        pickle.dump({"sys_path": list(sys.path), "blob": blob}, f)
    limit_s = options.time_minutes * 60
    start = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", BOOTSTRAP, str(payload), str(result)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    token = budget.started(lambda: _kill_group(proc.pid))
    tail = {index: progress.Tail(progress.path_for(result))}
    try:
        returncode = _wait(proc, start + limit_s, tail, options.progress)
        if returncode is None:
            _kill_group(proc.pid)
            proc.wait()
            return Outcome(False, reason=f"the job ran past its {limit_words(options.time_minutes)} limit",
                           seconds=time.monotonic() - start, where=where)
    finally:
        # Kill what the job left running in its group (and the job itself, when we are interrupted).
        _kill_group(proc.pid)
        if proc.poll() is None:
            proc.wait()
        budget.stopped(token)
        progress.forward(tail, options.progress, ended=tail)
    seconds = time.monotonic() - start
    if result.exists():
        with open(result, "rb") as f:
            envelope = pickle.load(f)  # written by our own job process: see the package docstring
        return envelope_outcome(envelope, where, fallback_seconds=seconds)
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        reason = f"the job died: killed by {name}"
    elif returncode > 0:
        reason = f"the job died: its process exited with status {returncode} before returning"
    else:
        reason = "the job died: its process ended without returning a result"
    return Outcome(False, reason=reason, seconds=seconds, where=where)


def _wait(proc, deadline: float, tail: dict, callback) -> int | None:
    """The job's exit status, or None past `deadline`; its progress goes to `callback` meanwhile."""
    while True:
        try:
            return proc.wait(timeout=max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                return None
            progress.forward(tail, callback)


def envelope_outcome(envelope: dict, where: str, fallback_seconds: float = 0.0) -> Outcome:
    """The Outcome an envelope from ``_job.execute`` describes (shared with the Slurm runner)."""
    seconds = float(envelope.get("seconds", fallback_seconds))
    if envelope.get("ok"):
        return Outcome(True, value=envelope.get("value"), seconds=seconds, where=where)
    if "unsendable" in envelope:
        reason = f"the job returned a value that cannot be sent back ({envelope['unsendable']})"
    else:
        reason = f"the job died: {envelope.get('error', 'no reason given')}"
    return Outcome(False, reason=reason, seconds=seconds, where=where)
