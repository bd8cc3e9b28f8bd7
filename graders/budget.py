"""The wall-clock budget of grading one submission.

The grader's own stages (intake, extraction, checks, figures, thresholds) run in its trusted process without the
sandbox's limits, and student input shapes how long they take. A watchdog thread bounds the whole: past the
budget it kills what the grader started (sandbox children, job processes), has the caller write a result that
names the stage that ran over, and ends the process with os._exit, whatever the main thread is stuck in.
"""
import os
import threading

STAGES = ("intake", "extraction", "checks", "figures", "thresholds")
OVERHEAD = 300      # seconds for starting Python and torch, reading and extracting, on a busy machine
WALL_FACTOR = 4     # the student's time is counted as their own (sandbox/clock.py); wall time on a loaded machine
JOB_MARGIN = 120    # per training job, past its own time limit: starting its sandbox, scoring

_kills = {}         # token -> how to kill one thing the grader started
_active = None      # the Budget of this process, if any


def default_seconds(spec, thresholds=None):
    """The spec's limits in wall time, and each training job's limit when threshold jobs run here."""
    seconds = WALL_FACTOR * spec.limits.submission_seconds + OVERHEAD
    if thresholds is not None and thresholds.mode == "run":
        seconds += sum(job.profiles[thresholds.profile].minutes * 60 + JOB_MARGIN for job in spec.jobs.values()
                       if thresholds.profile in job.profiles)
    return seconds


def started(kill):
    """Register `kill` (no arguments) for something the grader started; returns the token for stopped()."""
    token = object()
    _kills[token] = kill
    return token


def stopped(token):
    _kills.pop(token, None)


def stage(name):
    """Say which stage the grader is in now (no-op without a budget: a training job's own process)."""
    if _active is not None:
        _active.stage = name


class Budget:
    """`with Budget(seconds, overrun):` runs its body under the budget; `overrun(stage, seconds)` is called in
    the watchdog thread when it runs out, after what the grader started was killed; then the process exits
    with `status`."""

    def __init__(self, seconds, overrun, status=1):
        self.seconds, self.overrun, self.status = seconds, overrun, status
        self.stage, self._done = STAGES[0], threading.Event()

    def __enter__(self):
        global _active
        _active = self
        threading.Thread(target=self._watch, name="grading budget", daemon=True).start()
        return self

    def __exit__(self, *exc):
        global _active
        self._done.set()
        _active = None

    def _watch(self):
        if self._done.wait(self.seconds):
            return
        for kill in list(_kills.values()):
            try:
                kill()
            except Exception:  # noqa: S110 - one failed kill must not keep the result from being written
                pass
        try:
            self.overrun(self.stage, self.seconds)
        finally:
            os._exit(self.status)


def message(stage, seconds):
    """What the result says when the budget ran out."""
    return (f"The grader ran past its wall-clock budget of {seconds:g} s in the {stage} stage and was stopped; "
            "nothing of this run was graded. Please tell course staff (a very busy machine, or a submission the "
            f"grader's own {stage} could not finish: regrade it, with `graders grade --budget` if need be).")
