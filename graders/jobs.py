"""The contract between the engine and a pack's training-job driver (a threshold check's `jobs.<name>.driver`).

A driver is a module of the pack (docs/authoring.md, Threshold checks): `JOB`, the job's code (a path, or a
JobSource of several files) that runs in the sandbox beside the student's code; `inputs(profile,
hp, data_dir, seed)`, the job's arguments and what only the grader keeps (the answers); `score(result, kept)`, the
grader's `Score` of what the job returned; and optionally `THRESHOLD_FORMAT` (how a threshold reads, default a
percentage) and `submission_args(submission)` (arguments read from the hand-in as data, such as PA2's main.py).
"""
import importlib
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

JOB_PACKAGE = "threshold_job"  # the job's package in the sandbox child (a name the child does not hide)


class JobSource:
    """A job's code: its files in load order, each a module of one package named for its file, the last the job's
    entry (train_job, evaluate_job, architecture). A job file imports its neighbours relatively (`from .job_weights
    import JobError`) and nothing of the grader's, which the sandbox hides; the same package is built in the child
    (modules) and, for the job's architecture() and the calibration benchmarks, in the grader (load_here)."""

    def __init__(self, *parts):
        """Each part a path or another JobSource, whose files come in its order."""
        self.paths = [path for p in parts for path in (p.paths if isinstance(p, JobSource) else [Path(p)])]
        names = [p.stem for p in self.paths]
        if len(set(names)) != len(names):
            raise ValueError(f"a job's files need distinct names, not {', '.join(names)}")

    @property
    def entry(self):
        """The module holding the job's functions, in the sandbox."""
        return f"{JOB_PACKAGE}.{self.paths[-1].stem}"

    def is_file(self):
        return all(p.is_file() for p in self.paths)

    def modules(self, label):
        """The modules of a sandbox load request, one per file, in order; `label` names them in tracebacks."""
        return [{"name": p.stem, "package": JOB_PACKAGE, "file": f"{p.name} ({label})", "source": p.read_text()}
                for p in self.paths]

    def load_here(self, package):
        """The job's modules as package `package` of this (trusted) process; returns the entry module."""
        home = types.ModuleType(package)
        home.__path__, home.report = [], lambda fields: None  # progress goes nowhere here (job_weights.progress)
        sys.modules[package] = home
        for path in self.paths:
            module = types.ModuleType(f"{package}.{path.stem}")
            module.__file__, module.__package__ = str(path), package
            sys.modules[module.__name__] = module
            setattr(home, path.stem, module)
            exec(compile(path.read_text(), str(path), "exec"), module.__dict__)  # noqa: S102 - our job code
        return module


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
    job: JobSource
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
        job = module.JOB if isinstance(module.JOB, JobSource) else JobSource(module.JOB)
        return cls(name, job, module.inputs, module.score, **optional)

    @property
    def paths(self):
        """The job's source files (shipped to the sandbox as text)."""
        return list(self.job.paths)
