"""Runners for training jobs: the same job code, run here or on a Slurm cluster.

A training job is a pair ``(fn, args)``: ``fn`` a top-level function that the job process can import (by
module and name; a function of a test module works too, since the job process adopts this process's
``sys.path``), ``args`` picklable. ``run(jobs, options)`` runs them all and returns one ``Outcome`` per job,
in order: ``ok`` with the function's return value, or not ``ok`` with a reason in words for course staff
("the job ran past its 30 min limit", "Slurm cancelled the job (CANCELLED by 0)", "the job died: ValueError:
…"). A job's failure never raises and never costs another job its outcome; ``run`` raises ``ValueError`` only
for options that make no sense (an unknown runner, a forced "cuda" with no GPU to give it).

Two runners:

``local`` (the default)
    Each job in a fresh Python process of its own (``python -c``, in a new session): on the CPU one per CPU
    this process may use, side by side (a smoke job trains on one thread); on CUDA one at a time. A job that
    raises, crashes (a segfault, ``os._exit``) or runs past ``time_minutes`` of wall-clock time costs that job
    only: on a timeout its whole process group is killed. The device is CUDA when this machine has it, else the
    CPU, unless ``device`` forces one.

``slurm``
    All jobs go to the cluster as one job array through submitit (``AutoExecutor(cluster="slurm")``), each
    task with ``cpus`` CPUs, ``gpus`` GPUs (``--gpus-per-node``), a ``time_minutes`` time limit (whole
    minutes, rounded up: Slurm's own granularity), in ``partition`` and charged to ``account`` when they are
    given. The runner then waits, reading each job's state with ``sacct`` or, on clusters without accounting
    storage, ``squeue``: a job that Slurm ends (time limit, ``scancel``, node failure, out of memory) gets
    Slurm's reason. ``folder`` is where submitit keeps its scripts, pickles and logs: it must be a path that
    the compute nodes see at the same place (a shared home or scratch file system); left out, it is a
    temporary folder on this machine, which suits a one-node cluster only. The nodes must have this project
    installed in the same Python (the job is started with ``sys.executable``).

    A course points the grader at its cluster with the runner's options, which the command line exposes as
    ``--runner slurm`` and its companions: the partition that has the GPUs it wants (``partition``), how many
    GPUs a job takes (``gpus``, 0 for CPU-only smoke runs), the time limit (``time_minutes``, which must
    cover the course's full-profile training with room to spare) and, where the site bills by account, the
    account (``account``). Submit from a login node, on a shared file system, with ``folder`` on it.

The job process is ours and trusted: a job function is grader code (it starts the student's code in the
sandbox's child, which never sees the pickles). The job's return value comes back pickled, by submitit or by
the local runner, from that trusted job process into this one; nothing the student's code produces crosses
as a pickle (the sandbox's wire format carries it to the job process as plain data, and the job function
returns plain data built from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RUNNERS = ("local", "slurm")
DEVICES = ("cpu", "cuda")


@dataclass
class Options:
    runner: str = "local"  # "local" | "slurm"
    device: str | None = None  # None: "cuda" when there is one (local) or when gpus > 0 (slurm), else "cpu"
    partition: str | None = None  # slurm only
    gpus: int = 0  # slurm: --gpus-per-node
    time_minutes: float = 30  # the job's time limit (slurm: rounded up to whole minutes)
    account: str | None = None  # slurm --account
    folder: Path | None = None  # submitit's scripts, pickles and logs (local: the jobs' logs); default: temporary
    cpus: int = 2  # slurm --cpus-per-task
    progress: Callable[[int, dict | None], None] | None = None  # (job index, a record: runners/progress.py; None
    # when the job ended), called from the runner's threads while the jobs run; display only, never scored


@dataclass
class Outcome:
    ok: bool
    value: object = None  # what the job function returned, when ok
    reason: str | None = None  # why not ok, in words for course staff
    seconds: float = 0.0  # wall time of the job as run
    where: str = ""  # "local cpu", "slurm job 12 on node foo (partition debug)"


def limit_words(minutes: float) -> str:
    """A time limit as staff read it: "30 min", "1.5 min", "3 s"."""
    if minutes >= 1:
        return f"{minutes:g} min"
    return f"{minutes * 60:.3g} s"


def resolve_device(options: Options) -> str:
    """The device the jobs train on: "cpu" or "cuda".

    Local: CUDA when ``torch.cuda.is_available()``, unless ``options.device`` forces one; forcing "cuda" on a
    machine without CUDA is a ``ValueError``. Slurm: the device is on the nodes, not here, so it follows
    ``options.gpus`` (forcing "cuda" with ``gpus == 0`` is a ``ValueError``).
    """
    device = options.device
    if device is not None and device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: use one of {', '.join(DEVICES)} (or leave it out)")
    if options.runner == "slurm":
        if device == "cuda" and options.gpus <= 0:
            raise ValueError("device 'cuda' on Slurm needs GPUs: ask for them with gpus >= 1 (--gpus)")
        return device or ("cuda" if options.gpus > 0 else "cpu")
    if device == "cpu":
        return "cpu"
    import torch

    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise ValueError("device 'cuda' was asked for, but torch finds no CUDA device on this machine "
                         f"(torch {torch.__version__}); use device 'cpu' or leave the device out")
    return "cuda" if available else "cpu"


def check_options(options: Options) -> None:
    if options.runner not in RUNNERS:
        raise ValueError(f"unknown runner {options.runner!r}: use one of {', '.join(RUNNERS)}")
    if not options.time_minutes > 0:
        raise ValueError(f"time_minutes must be positive, not {options.time_minutes!r}")
    if options.gpus < 0 or options.cpus < 1:
        raise ValueError(f"gpus must be >= 0 and cpus >= 1 (got gpus={options.gpus}, cpus={options.cpus})")


def run(jobs: list[tuple[Callable, tuple]], options: Options) -> list[Outcome]:
    """Run each ``(fn, args)`` and return one Outcome per job, in order (see the module docstring)."""
    check_options(options)
    device = resolve_device(options)
    jobs = list(jobs)
    if not jobs:
        return []
    if options.runner == "local":
        from graders.runners import local

        return local.run(jobs, options, device)
    from graders.runners import slurm

    return slurm.run(jobs, options, device)


__all__ = ["Options", "Outcome", "run", "resolve_device", "limit_words"]
