"""The Slurm runner: the jobs as one submitit job array, then a wait that reads Slurm's own view of each job.

submitit writes each job's result pickle when the job function returns; a job that Slurm ends (time limit,
``scancel``, node failure, out of memory) writes none, and submitit's own ``job.wait()`` then depends on
``sacct``, which fails on clusters without accounting storage (submitit warns and keeps reporting UNKNOWN,
that is "not done", for ever). So this module polls the job states itself: ``sacct`` while it works, and
``squeue --states=all`` (which knows every job the controller still holds, finished ones included for
``MinJobAge``, 300 s by default) for what sacct cannot tell. A job is done when Slurm says it ended; its
outcome is then the result pickle when the job ended normally, and Slurm's reason when Slurm ended it.
"""

from __future__ import annotations

import math
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graders.runners import Options, Outcome, limit_words, progress
from graders.runners._job import slurm_entry
from graders.runners.local import envelope_outcome

# Slurm states in which a job will not run any more. The first group is Slurm ending the job: the outcome is
# a failure whatever the job managed to write before it was killed.
ENDED_BY_SLURM = {"CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
                  "REVOKED"}
ENDED = ENDED_BY_SLURM | {"COMPLETED", "FAILED", "SPECIAL_EXIT"}
# How long a result pickle may take to show up after the job ended (shared file systems cache directory
# listings): long after a normal end, short after a failure (the job writes its pickle before it exits).
RESULT_GRACE_S = {"COMPLETED": 15.0}
RESULT_GRACE_DEFAULT_S = 5.0
FORGOTTEN_S = 120.0  # a job that neither sacct nor squeue lists for this long is gone
UNREACHABLE_S = 600.0  # give up when Slurm cannot be asked about the jobs for this long
QUERY_TIMEOUT_S = 60.0
PROGRESS_S = 2.0  # how often the jobs' progress files are read between two polls of Slurm


@dataclass
class _Tracked:
    index: int
    job: object  # submitit.slurm.slurm.SlurmJob
    submitted: float
    state: str = ""  # the last state Slurm gave, e.g. "RUNNING", "CANCELLED by 0"
    node: str = ""
    partition: str = ""
    last_listed: float = 0.0
    running_since: float | None = None
    ended_at: float | None = None
    extra: dict = field(default_factory=dict)


def run(jobs: list[tuple[Callable, tuple]], options: Options, device: str) -> list[Outcome]:
    del device  # resolved on the node by the job itself; checked against --gpus by resolve_device
    own_folder = options.folder is None
    folder = Path(tempfile.mkdtemp(prefix="graders-slurm-")) if own_folder else Path(options.folder)
    try:
        return _run(jobs, options, folder)
    finally:
        if own_folder:
            shutil.rmtree(folder, ignore_errors=True)


def _refused(count: int, options: Options, reason: str) -> list[Outcome]:
    where = f"slurm (partition {options.partition})" if options.partition else "slurm"
    return [Outcome(False, reason=reason, where=where) for _ in range(count)]


def _run(jobs, options: Options, folder: Path) -> list[Outcome]:
    try:
        import submitit
    except ImportError:
        return _refused(len(jobs), options, "the Slurm runner needs submitit (pip install submitit)")
    absent = [name for name in ("sbatch", "srun", "squeue") if shutil.which(name) is None]
    if absent:
        return _refused(len(jobs), options, f"Slurm's commands are not on this machine ({', '.join(absent)} "
                                            "not found): run the grader on a login node of the cluster")
    timeout_min = max(1, math.ceil(options.time_minutes))
    parameters = {"timeout_min": timeout_min, "cpus_per_task": options.cpus, "name": "graders",
                  "tasks_per_node": 1, "nodes": 1}
    if options.gpus:
        parameters["gpus_per_node"] = options.gpus
    if options.partition:
        parameters["slurm_partition"] = options.partition
    if options.account:
        parameters["slurm_account"] = options.account
    blobs = []
    for fn, args in jobs:
        try:
            blobs.append(pickle.dumps((fn, tuple(args))))
        except Exception as exc:
            blobs.append(exc)
    try:
        executor = submitit.AutoExecutor(folder=folder / "%j", cluster="slurm")
        executor.update_parameters(**parameters)
        submitted = []
        with executor.batch():
            for index, blob in enumerate(blobs):
                if not isinstance(blob, Exception):
                    submitted.append(executor.submit(slurm_entry, list(sys.path), blob,
                                                     progress.path_for(folder / f"job-{index}")))
    except Exception as exc:
        detail = getattr(exc, "stderr", None) or getattr(exc, "output", None) or b""
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        message = "; ".join(" ".join(line.split()) for line in (detail or str(exc)).splitlines() if line.strip())
        message = message[:500]
        return _refused(len(jobs), options, f"Slurm refused the jobs: {message}")
    now = time.monotonic()
    tracked, jobs_iter = {}, iter(submitted)
    outcomes: list[Outcome | None] = [None] * len(jobs)
    for index, blob in enumerate(blobs):
        if isinstance(blob, Exception):
            outcomes[index] = Outcome(
                False, reason=f"the job could not be handed to Slurm ({type(blob).__name__}: {blob})",
                where="slurm")
        else:
            job = next(jobs_iter)
            tracked[job.job_id] = _Tracked(index, job, now, last_listed=now)
    tails = {t.index: progress.Tail(progress.path_for(folder / f"job-{t.index}")) for t in tracked.values()}
    try:
        _wait(tracked, outcomes, options, timeout_min, tails)
    except BaseException:
        _cancel([t.job.job_id for t in tracked.values() if outcomes[t.index] is None])
        raise
    return outcomes  # type: ignore[return-value]


def _cancel(job_ids: list[str]) -> None:
    if job_ids:
        subprocess.run(["scancel", *job_ids], capture_output=True, timeout=QUERY_TIMEOUT_S, check=False)


def _wait(tracked: dict[str, _Tracked], outcomes: list, options: Options, timeout_min: int, tails: dict) -> None:
    """Poll Slurm (less often as the wait grows) until every job has its outcome; between polls, hand the jobs'
    progress to options.progress every PROGRESS_S."""
    states_from = _StateReader()
    start = last_answer = time.monotonic()
    while any(outcomes[t.index] is None for t in tracked.values()):
        pending = {job_id: t for job_id, t in tracked.items() if outcomes[t.index] is None}
        states = states_from.query(list(pending))
        now = time.monotonic()
        if states is not None:
            last_answer = now
        elif now - last_answer > UNREACHABLE_S:
            for t in pending.values():
                reason = (f"Slurm could not be asked about the job for {UNREACHABLE_S / 60:g} min "
                          f"({states_from.last_error})")
                outcomes[t.index] = _outcome_from_pickle(t) or Outcome(
                    False, reason=reason, seconds=_observed_seconds(t, now), where=_where(t, options))
            return
        for job_id, t in pending.items():
            info = (states or {}).get(job_id)
            if info is not None:
                t.state, t.node = info["state"], info["node"] or t.node
                t.partition = info["partition"] or t.partition
                t.last_listed = now
                if t.running_since is None and _base(t.state) not in ("PENDING", "CONFIGURING", "REQUEUED"):
                    t.running_since = now
            outcome = _decide(t, states is not None and info is None, now, options, timeout_min)
            if outcome is not None:
                outcomes[t.index] = outcome
                progress.forward({t.index: tails.pop(t.index)}, options.progress, ended=[t.index])
        if any(outcomes[t.index] is None for t in tracked.values()):
            until = time.monotonic() + min(0.5 + (time.monotonic() - start) / 20, 15.0)
            while (left := until - time.monotonic()) > 0:
                time.sleep(min(left, PROGRESS_S))
                progress.forward(tails, options.progress)


def _base(state: str) -> str:
    return state.split()[0].rstrip("+") if state else ""


def _decide(t: _Tracked, unlisted: bool, now: float, options: Options, timeout_min: int) -> Outcome | None:
    base = _base(t.state)
    has_result = t.job.paths.result_pickle.exists()
    if base in ENDED_BY_SLURM:
        return Outcome(False, reason=_slurm_reason(t, timeout_min), seconds=_observed_seconds(t, now),
                       where=_where(t, options))
    ended = base in ENDED or (unlisted and now - t.last_listed > FORGOTTEN_S)
    if not ended and has_result and unlisted:
        ended = True  # finished and already out of squeue's and sacct's sight
    if not ended:
        return None
    if t.ended_at is None:
        t.ended_at = now
    if has_result:
        return _outcome_from_pickle(t) or Outcome(False, reason="the job's result could not be read",
                                                  where=_where(t, options))
    if now - t.ended_at < RESULT_GRACE_S.get(base, RESULT_GRACE_DEFAULT_S):
        _refresh(t.job.paths.result_pickle.parent)
        return None
    if base:
        reason = f"the job died: Slurm reports {t.state} and the job left no result"
    else:
        reason = "the job died: Slurm no longer knows the job and it left no result"
    last = _last_error_line(t)
    if last:
        reason += f" ({last})"
    return Outcome(False, reason=reason, seconds=_observed_seconds(t, now), where=_where(t, options))


def _refresh(folder: Path) -> None:
    """Make an NFS client look again at a folder (what submitit does too: a no-op chmod)."""
    try:
        folder.chmod(folder.stat().st_mode)
    except OSError:
        pass


def _outcome_from_pickle(t: _Tracked) -> Outcome | None:
    if not t.job.paths.result_pickle.exists():
        return None
    try:
        envelope = t.job.result()  # our own job process pickled it: see the package docstring
    except Exception as exc:  # submitit could not run our entry point at all, or failed to save its result
        lines = [line for line in str(exc).splitlines() if line.strip() and not line.startswith("---")]
        trace = [line for line in lines if not line.startswith((" ", "You can check", "or at paths"))]
        detail = trace[-1] if trace else type(exc).__name__
        return Outcome(False, reason=f"the job died: {detail.strip()[:500]}", where=_where(t, None))
    if not isinstance(envelope, dict):
        return Outcome(False, reason="the job returned something other than the runner's envelope",
                       where=_where(t, None))
    if envelope.get("host"):
        t.node = envelope["host"]
    if envelope.get("partition"):
        t.partition = envelope["partition"]
    where = _where(t, None)
    return envelope_outcome(envelope, where)


REASONS = {
    "TIMEOUT": "the job ran past its {limit} limit (Slurm: {state})",
    "CANCELLED": "Slurm cancelled the job ({state})",
    "NODE_FAIL": "the node running the job failed (Slurm: {state})",
    "OUT_OF_MEMORY": "the job ran out of memory (Slurm: {state})",
    "PREEMPTED": "Slurm preempted the job for another one ({state})",
    "BOOT_FAIL": "the node could not be booted for the job (Slurm: {state})",
    "DEADLINE": "the job could not run before its deadline (Slurm: {state})",
}


def _slurm_reason(t: _Tracked, timeout_min: int) -> str:
    return REASONS.get(_base(t.state), "Slurm ended the job ({state})").format(limit=limit_words(timeout_min),
                                                                                state=t.state)


def _observed_seconds(t: _Tracked, now: float) -> float:
    """How long the job ran as far as the polls saw (when the job could not say so itself)."""
    end = t.ended_at if t.ended_at is not None else now
    return max(0.0, end - t.running_since) if t.running_since is not None else 0.0


def _where(t: _Tracked, options: Options | None) -> str:
    text = f"slurm job {t.job.job_id}"
    if t.node:
        text += f" on node {t.node}"
    partition = t.partition or (options.partition if options is not None else None)
    if partition:
        text += f" (partition {partition})"
    return text


def _last_error_line(t: _Tracked) -> str:
    try:
        text = t.job.paths.stderr.read_text(errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "killed" in line.lower()]
    return (errors or lines or [""])[-1][:300]


class _StateReader:
    """Job states from sacct while it works, from squeue for what sacct does not know."""

    def __init__(self) -> None:
        self.sacct_works = shutil.which("sacct") is not None
        self.last_error = ""

    def query(self, job_ids: list[str]) -> dict[str, dict] | None:
        """{job id: {"state", "node", "partition"}} for the jobs Slurm lists; None when no command answered."""
        mains = sorted({job_id.split("_")[0] for job_id in job_ids})
        found: dict[str, dict] = {}
        answered = False
        if self.sacct_works:
            out = self._ask(["sacct", "--allocations", "--parsable2", "--noheader",
                             "--format=JobID,State,NodeList,Partition", "--jobs", ",".join(mains)])
            if out is None:
                self.sacct_works = False  # e.g. "Slurm accounting storage is disabled": use squeue from now on
            else:
                answered = True
                found.update(_parse(out))
        missing = [job_id for job_id in job_ids if job_id not in found]
        if missing:
            out = self._ask(["squeue", "--noheader", "--array", "--states=all", "--format=%i|%T|%N|%P",
                             "--jobs", ",".join(sorted({job_id.split("_")[0] for job_id in missing}))])
            if out is not None:
                answered = True
                found.update({k: v for k, v in _parse(out).items() if k not in found})
            elif "Invalid job id" in self.last_error:
                answered = True  # squeue no longer holds any of these jobs
        return found if answered else None

    def _ask(self, command: list[str]) -> str | None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.last_error = f"{command[0]}: {exc}"
            return None
        if done.returncode != 0:
            self.last_error = f"{command[0]}: {' '.join(done.stderr.split())[:300]}"
            return None
        return done.stdout


_ARRAY_RANGE = re.compile(r"^(\d+)_\[([0-9,\-]+)(%\d+)?\]$")


def _parse(text: str) -> dict[str, dict]:
    found = {}
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) < 2 or not fields[0] or "." in fields[0]:
            continue
        info = {"state": fields[1].strip(), "node": fields[2].strip() if len(fields) > 2 else "",
                "partition": fields[3].strip() if len(fields) > 3 else ""}
        if info["node"] in ("None assigned", "(null)"):
            info["node"] = ""
        match = _ARRAY_RANGE.match(fields[0])
        if match:  # a pending range of an array, e.g. 12_[3-7%2]
            for part in match.group(2).split(","):
                low, _, high = part.partition("-")
                for task in range(int(low), int(high or low) + 1):
                    found[f"{match.group(1)}_{task}"] = info
        else:
            found[fields[0]] = info
    return found
