"""Threshold checks: train with the student's code, then score what the training job returns.

A threshold check names a job of its assignment (spec `jobs`: a driver module, and per profile the
threshold, the time limit and the hyper-parameters). The grader asks the driver for the job's inputs, drawn
from a per-grading secret (job_seed), and keeps what the job must not see (the answers); the job runs on a
runner (graders/runners: here or on Slurm) in two sandbox children, each holding the student's code and the
job's own code (the driver's JOB: its files, each a module of the job's package) and the arguments a driver's optional
submission_args(submission) reads from the submission as data (such as PA2's main.py): the first trains on
the training data and returns the weights; the grader checks them against the architecture; the second, fresh,
loads them and predicts for the held-out inputs, which the first never sees. Each call has the job's time
limit; the grader scores the plain data that comes back. A job never reports its own score, and a job that
dies, times out or is cancelled fails its checks with the reason.

Profiles: `smoke` trains small models on data the project generates, on the CPU, in about a minute; `full`
uses the course's hyper-parameters and data (`--data-dir`). Under `full` without a GPU (an autograder
container), threshold checks are pending: they score 0 with a note, and a later `graders batch --profile full
--runner slurm` runs them and merges their outcomes into each student's results.
"""
import hashlib
import os
import shutil
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from typing import NamedTuple

from graders import runners
from graders import spec as specs
from graders.check_kinds import CheckKind
from graders.checks.feedback import Feedback
from graders.jobs import Driver
from graders.plugin import Outcome
from graders.problems import LimitExceeded, MachineProblem
from graders.runners import progress
from graders.sandbox.worker import BACKSTOP_FACTOR


class Trained(NamedTuple):
    """A student's threshold checks, as the grader scored what their jobs returned."""

    outcomes: dict        # check name -> Outcome
    figures: list         # the jobs' figures (learning curves)
    seconds: float        # the jobs' wall time, apart from the grading's (reports show both)


def job_checks(spec):
    return [(part, check) for part in spec.parts for check in part.checks if check.job]


PENDING_NOTE = "pending: graded after the deadline on the course's GPU runner"


def pending(spec, profile):
    """Outcomes of every threshold check, not run yet, with the note students see: what happens next, not how staff
    make it happen (the class report says that: graders/report)."""
    note = f"{PENDING_NOTE}. This check trains a model ({profile} profile); its points are added then."
    return {check.name: Outcome(False, note, CheckKind.PENDING) for _, check in job_checks(spec)}


def run_job(submission, spec_id, job_name, profile, args, device="cpu"):
    """On the runner: the job trains with the student's code in one sandbox child and returns the weights; the
    grader checks them against the architecture; a fresh child, which loads only the student's modules, the job's
    code and those weights, predicts for the held-out inputs (args["evaluate"], which the training child never
    sees). Each call may take the profile's whole time limit. The job trains on `device` (its hp "device").
    Returns the job's plain result, or {"refused": why} for weights that do not fit the architecture."""
    driver, hp = Driver.load(specs.get(spec_id).jobs[job_name].driver), {**args["hp"], "device": device}
    job = job_code(driver)
    with sandboxed(submission, spec_id, job_name, profile, device) as (session, extra):
        trained = session.call(driver.job.entry, "train_job", kwargs={**args["train"], **extra, "hp": hp},
                               label=f"the {job_name} training job", progress=progress.sender("training"))
    why = refusal(trained, job, {**args["train"], **extra, "hp": hp})
    if why:
        return {"refused": why}
    with sandboxed(submission, spec_id, job_name, profile, device) as (session, extra):
        kwargs = {**args["evaluate"], **extra, "weights": trained["weights"], "model": trained.get("model"), "hp": hp}
        evaluated = session.call(driver.job.entry, "evaluate_job", kwargs=kwargs, label=f"the {job_name} prediction",
                                 progress=progress.sender("prediction"))
    return merged(trained, evaluated)


def merged(trained, evaluated):
    """The job's result: the prediction's, with the training's loss curve and both calls' timings."""
    if not isinstance(evaluated, dict):
        raise ValueError(f"the prediction returned {type(evaluated).__name__}, not a dict")
    seconds = {**(trained.get("seconds") or {}), **(evaluated.get("seconds") or {})}
    return {**evaluated, "curve": trained.get("curve"), "seconds": seconds}


def run_here(job, args, hp):
    """The job's two calls in this process, without sandboxes or checks (the calibration benchmarks): the result
    run_job would give."""
    trained = job.train_job(**args["train"], hp=hp)
    return merged(trained, job.evaluate_job(**args["evaluate"], weights=trained["weights"], model=trained["model"],
                                            hp=hp))


@contextmanager
def sandboxed(submission, spec_id, job_name, profile, device):
    """A fresh sandbox child holding the student's modules and the job's code, with the job's time limit; yields
    the session and the arguments a driver's optional submission_args(submission) reads from the submission as
    data (such as PA2's main.py)."""
    from graders.grade import prepared
    from graders.submission import scratch_dir

    spec = specs.get(spec_id)
    job = spec.jobs[job_name]
    seconds = job.profiles[profile].minutes * 60
    limits = spec.limits.model_copy(update={"call_seconds": seconds, "submission_seconds": seconds + 60})
    driver = Driver.load(job.driver)
    scratch = scratch_dir()
    try:
        with prepared(submission, spec.model_copy(update={"limits": limits}), scratch,
                      extra=driver.job.modules(f"{job_name} job"),
                      gpu=device == "cuda") as (sub, _):
            sub.session.load_errors()  # starts the child, whose protections say whether it has the GPU
            found = sub.session.protections.get("cuda", "")
            if device == "cuda" and (not found or found.startswith("unavailable")):
                raise RuntimeError(f"the sandbox could not open the GPU: {found or 'no report'}")
            yield sub.session, driver.submission_args(sub)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def job_code(driver):
    """The job's entry module, built in this (trusted) process from the job's files, for its architecture(): never
    the student's."""
    return driver.job.load_here(f"graders_job_{driver.name.replace('.', '_')}")


def refusal(trained, job, args):
    """Why the trained weights cannot be evaluated, or None: they must be a state dict of tensors holding the
    job's own weights in their shapes (job.architecture) and, under each prefix it names (the student's module),
    no more numbers than it allows; no other key."""
    import torch

    weights = trained.get("weights") if isinstance(trained, dict) else None
    if not isinstance(weights, dict) or not all(type(t) is torch.Tensor for t in weights.values()):
        return "the training job returned no state dict of tensors"
    try:
        own, room = job.architecture(**args, model=trained.get("model"))
    except Exception as e:  # the job's checks of the model's description (the vocabulary): its words
        return f"the trained model's description does not fit: {e}"
    for key, shape in own.items():
        if key not in weights or tuple(weights[key].shape) != shape:
            found = tuple(weights[key].shape) if key in weights else "missing"
            return f"the weights' {key} should have shape {shape}, not {found}"
    held = dict.fromkeys(room, 0)
    for key, tensor in weights.items():
        prefix = next((p for p in room if key.startswith(p)), None)
        if key not in own and prefix is None:
            return f"the weights hold {key!r}, which is not part of the model the assignment describes"
        if key not in own:
            held[prefix] += tensor.numel()
    for prefix, n in held.items():
        if n > room[prefix]:
            return (f"the weights under {prefix or 'the model'} hold {n} numbers, more than the {room[prefix]} the "
                    "architecture allows (extra buffers or parameters)")
    return None


def evaluate(submissions, spec, profile, options, data_dir=None, view=None):
    """Run every job of every submission ({student: path}) in one go on the runner, showing their progress on `view`
    (graders/training.py) when there is one; returns {student: Trained}."""
    todo, kept = [], []
    device = runners.resolve_device(options) if submissions else "cpu"
    for student, path in submissions.items():
        for name, job in spec.jobs.items():
            if not any(check.job == name for _, check in job_checks(spec)):
                continue
            driver, settings = Driver.load(job.driver), job.profiles[profile]
            args, secret = driver.inputs(profile, dict(settings.hp), data_dir, seed=job_seed(spec.id, name))
            todo.append((run_job, (str(path), spec.id, name, profile, args, device)))
            kept.append((student, name, driver, secret))
    minutes = max((j.profiles[profile].minutes for j in spec.jobs.values()), default=1)
    if options.runner == "local":
        # The sandbox charges the job its own time and gives a starved job two wall-clock windows (worker.Limits):
        # the runner's wall-clock limit, there for a job process that hangs, must not end a job on a busy machine
        # first. A Slurm job has its CPUs to itself and keeps the profile's time.
        minutes *= 2 * BACKSTOP_FACTOR
    watch = (lambda i, record: view.update(kept[i][0], kept[i][1], record)) if view else None
    with view(len(todo)) if view and todo else nullcontext():
        done = runners.run(todo, replace(options, time_minutes=minutes + 2,  # + start-up, load
                                         progress=watch)) if todo else []
    results = {student: Trained({}, [], 0.0) for student in submissions}
    for (student, name, driver, secret), outcome in zip(kept, done, strict=True):
        outcomes, figures, seconds = results[student]
        results[student] = Trained(outcomes, figures, seconds + outcome.seconds)
        threshold = spec.jobs[name].profiles[profile].threshold
        for _, check in job_checks(spec):
            if check.job == name:
                outcomes[check.name] = verdict(driver, outcome, secret, threshold, profile, figures)
    return results


def job_seed(spec_id, job_name):
    """The seed of a job's data and probes: from the course's secret (GRADERS_SECRET, for regrades that reproduce)
    or, without one, from os.urandom at grade time; never a number in public source, so that no submission can
    regenerate the held-out data."""
    secret = os.environ.get("GRADERS_SECRET") or os.urandom(32).hex()
    return int.from_bytes(hashlib.sha256(f"{secret}/{spec_id}/{job_name}".encode()).digest()[:8], "big")


def verdict(driver, outcome, secret, threshold, profile, figures):
    where = f" ({outcome.where}, {profile} profile)" if outcome.where else f" ({profile} profile)"
    if not outcome.ok:
        reason = outcome.reason or ""
        # the runner's "ran past its 30 min limit", or the sandbox's LimitExceeded named in the job's error
        limited = "limit" in reason or LimitExceeded.__name__ in reason
        kind = (CheckKind.REGRADE if MachineProblem.__name__ in reason
                else CheckKind.LIMIT if limited else CheckKind.ERROR)
        return Outcome(False, f"the training job did not finish{where}: {outcome.reason}", kind)
    if "refused" in outcome.value:
        return Outcome(False, f"the trained weights were refused{where}: {outcome.value['refused']}",
                       CheckKind.WRONG)
    try:
        value, lines, bug, pictures = driver.score(outcome.value, secret)
        lines = list(lines)
    except (TypeError, ValueError, KeyError, IndexError) as e:
        return Outcome(False, f"the training job's output could not be scored{where}: {e}", CheckKind.ERROR)
    figures += list(pictures)
    reached = f"threshold {driver.threshold_format.format(threshold)}: "
    reached += f"{'reached' if value >= threshold else 'not reached'}{where}"
    if bug is not None:  # the reason first, whatever the metric; what the model reached under it
        return Outcome.of(Feedback(f"the trained model fails whatever its metric: {bug}", details=[reached, *lines],
                                   bug=bug), CheckKind.WRONG)
    if value < threshold:
        return Outcome.of(Feedback(f"{reached}: {lines[0]}", details=lines[1:]), CheckKind.WRONG)
    return Outcome.of(Feedback(lines[0], details=[reached, *lines[1:]]), None, True)
