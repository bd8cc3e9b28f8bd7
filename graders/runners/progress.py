"""Training progress, from the sandbox child to the grader's terminal, as plain numbers that never score.

The path: the job's code in the sandbox child calls its package's `report` (graders/checks/job_weights.py's
`progress`), which the child sends as a wire frame of its own between request and reply (graders/sandbox); the job
process appends each record, as one JSON line, to a progress file beside its result; the runner, which waits for
the job anyway, reads the file's new lines every second and hands them to `Options.progress`. A file the runner
tails works the same for both runners (local: the scratch folder; Slurm: submitit's folder, which the nodes share),
survives a job that dies, and needs no socket, no pickle and no new process. Records are shown to staff while the
jobs run and then dropped: the grade comes only from what the job returns (SECURITY.md).

Keep this module light: the job process imports it before the job's own imports.
"""
from __future__ import annotations

import json
import math
import os
import time

FIELDS = {"step": int, "steps": int, "loss": float, "elapsed": float}  # what a record may hold, as numbers
PHASES = ("training", "prediction")
MIN_INTERVAL = 1.0  # seconds between two records a job writes: a student's code that reports in a loop floods nothing
MAX_LINE = 400

_file: str | None = None  # this job process's progress file, set by its entry point (runners/_job.py)
_last = 0.0


def record(fields: object, phase: str) -> dict | None:
    """The record `fields` (whatever came from the child) stands for, with `phase`, or None: only known fields, as
    finite numbers, and a step within steps."""
    if type(fields) is not dict or phase not in PHASES:
        return None
    out: dict = {"phase": phase}
    for key, kind in FIELDS.items():
        value = fields.get(key)
        if type(value) in (int, float) and math.isfinite(value) and value >= 0:
            out[key] = kind(value)
    if "step" not in out or out.get("steps", out["step"]) < out["step"]:
        return None
    return out


def sender(phase: str):
    """What the job process passes to the session for the child's progress frames: at most one record a second,
    appended to this process's progress file; nothing when it has none (a job run without a runner)."""
    start = time.monotonic()

    def send(fields: object) -> None:
        global _last
        now = time.monotonic()
        found = record(fields, phase)
        if _file is None or found is None or now - _last < MIN_INTERVAL:
            return
        _last, found["elapsed"] = now, now - start
        with open(_file, "a") as f:
            f.write(json.dumps(found) + "\n")
    return send


def use(path: str) -> None:
    """Make `path` this job process's progress file (the job's entry points: runners/_job.py)."""
    global _file
    _file = path


class Tail:
    """The new records of one job's progress file, read by the runner while the job runs."""

    def __init__(self, path):
        self.path, self.offset = str(path), 0

    def read(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
        self.offset += end
        found = []
        for line in data[:end].splitlines():
            try:
                value = json.loads(line[:MAX_LINE])
            except ValueError:
                continue
            checked = record(value, value.get("phase")) if type(value) is dict else None
            if checked:
                found.append(checked)
        return found


def forward(tails: dict, callback, ended=()) -> None:
    """Hand every job's new records ({index: Tail}) to `callback(index, record)`, then None for each index of
    `ended` (that job is over); a callback that fails costs no job its outcome."""
    if callback is None:
        return
    events = [(index, found) for index, tail in tails.items() for found in tail.read()]
    for index, found in events + [(index, None) for index in ended]:
        try:
            callback(index, found)
        except Exception:  # noqa: BLE001, S112 - a display problem must not end the grading
            continue


def path_for(result_path) -> str:
    return os.fspath(result_path) + ".progress"
