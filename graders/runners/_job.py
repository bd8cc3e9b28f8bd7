"""The job side of the runners: what runs inside the job's own process, on this machine or on a Slurm node.

Both runners hand the job process the same thing, ``pickle.dumps((fn, args))`` and the submitting process's
``sys.path`` (so that a function of a test module or of a course's plug-in imports there as it did here), and
both get back the same envelope, a dict of plain data: ``ok``, ``value`` or ``error``/``traceback``,
``seconds``, ``host``, ``slurm_job`` and ``partition``. Keep this module light: it is imported before the
job's own imports, in a fresh interpreter.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import sys
import time
import traceback

from graders.runners import progress

MAX_MESSAGE = 500


def _adopt_sys_path(parent_path: list[str]) -> None:
    sys.path[:] = list(parent_path) + [p for p in sys.path if p not in parent_path]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def execute(blob: bytes) -> dict:
    """Unpickle ``(fn, args)``, call ``fn(*args)`` and describe what happened as plain data."""
    start = time.monotonic()
    envelope: dict = {"ok": False, "host": socket.gethostname()}
    if "SLURM_JOB_ID" in os.environ:
        array_job, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
        envelope["slurm_job"] = f"{array_job}_{task}" if array_job and task else os.environ["SLURM_JOB_ID"]
        envelope["partition"] = os.environ.get("SLURM_JOB_PARTITION")
    try:
        fn, args = pickle.loads(blob)
        value = fn(*args)
    except BaseException as exc:  # noqa: B036 - SystemExit and KeyboardInterrupt are a job's failure too
        message = str(exc)
        envelope["error"] = _short(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
        envelope["traceback"] = traceback.format_exc()[-20000:]
    else:
        try:
            pickle.dumps(value)
        except Exception as exc:
            envelope["unsendable"] = _short(f"{type(exc).__name__}: {exc}")
        else:
            envelope["ok"] = True
            envelope["value"] = value
    envelope["seconds"] = time.monotonic() - start
    return envelope


def local_main(payload_path: str, result_path: str) -> None:
    """Entry point of a local job process (started by ``runners.local``); writes the envelope atomically."""
    with open(payload_path, "rb") as f:
        payload = pickle.load(f)
    _adopt_sys_path(payload["sys_path"])
    progress.use(progress.path_for(result_path))
    envelope = execute(payload["blob"])
    tmp = result_path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(envelope, f)
    os.replace(tmp, result_path)


def slurm_entry(parent_path: list[str], blob: bytes, progress_path: str | None = None) -> dict:
    """What submitit calls on the Slurm node, with the progress file the runner reads (on the shared folder).
    submitit pickles the envelope it returns."""
    # submitit asks Slurm for a USR2 signal 90 s before the time limit (which Slurm may send up to 60 s early)
    # and then ends a job that cannot checkpoint as "timed out". Our jobs do not checkpoint: let them use
    # their whole time limit; Slurm ends them at the limit and reports TIMEOUT, which the runner reads.
    # Ignoring the signal also keeps it from killing the job's children (its default action is to terminate).
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    _adopt_sys_path(parent_path)
    if progress_path:
        progress.use(progress_path)
    return execute(blob)


# The bootstrap a local job process runs (``python -c BOOTSTRAP payload result``): it adopts the parent's
# sys.path before importing anything, so that this module is found wherever the parent found it.
BOOTSTRAP = (
    "import pickle, sys\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    sys.path[:0] = pickle.load(f)['sys_path']\n"
    "from graders.runners._job import local_main\n"
    "local_main(sys.argv[1], sys.argv[2])\n"
)
