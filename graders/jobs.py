"""The contract between the engine and a pack's training-job driver (a threshold check's `jobs.<name>.driver`).

A driver is a module of the pack (docs/authoring.md, Threshold checks): `JOB`, the job's source (a path, or a
graders.checks.lm.JobSource of several files) that runs in the sandbox beside the student's code; `inputs(profile,
hp, data_dir, seed)`, the job's arguments and what only the grader keeps (the answers); `score(result, kept)`, the
grader's `Score` of what the job returned; and optionally `THRESHOLD_FORMAT` (how a threshold reads, default a
percentage) and `submission_args(submission)` (arguments read from the hand-in as data, such as PA2's main.py).
"""
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple


class Score(NamedTuple):
    """The grader's reading of a job's result."""

    metric: float               # compared with the profile's threshold
    lines: list[str]            # what the model reached, the headline first
    bug: str | None = None      # why the check fails whatever the metric (the trained model sees the future)
    pictures: tuple = ()        # figures for the report (learning curves)


@dataclass(frozen=True)
class Driver:
    """A driver module, read once, with its optional parts filled in."""

    name: str
    job: object
    inputs: Callable
    score: Callable[..., Score]
    threshold_format: str = "{:.0%}"
    submission_args: Callable = lambda submission: {}  # noqa: E731 - no arguments from the hand-in

    @classmethod
    def load(cls, name):
        module = importlib.import_module(name)
        missing = [attr for attr in ("JOB", "inputs", "score") if not hasattr(module, attr)]
        if missing:
            raise TypeError(f"job driver {name} lacks {', '.join(missing)} (docs/authoring.md, Threshold checks)")
        optional = {key: getattr(module, attr) for key, attr in (("threshold_format", "THRESHOLD_FORMAT"),
                                                                  ("submission_args", "submission_args"))
                    if hasattr(module, attr)}
        return cls(name, module.JOB, module.inputs, module.score, **optional)

    @property
    def paths(self):
        """The job's source files (shipped to the sandbox as text)."""
        return list(getattr(self.job, "paths", [self.job]))
