"""Record the trusted modules a student kit stands in for (see graders/replay.py).

The kit's checks run here, as the kit runs them, on the assignment's reference and known-bug samples, with each
trusted module replaced by a proxy: calls go through to the real module and their results are kept. When one
entry of a bug table runs on an input, every entry runs on it, so the kit can name any known bug on an input
where some sample failed. Each bug sample runs only the checks it is expected to fail, the reference every check;
a passing check asks for the reference's inputs again, so correct samples add nothing, but where modules are compared
(a fused projection asks for a probe of the reference) they run too.
"""
import atexit
import importlib
import inspect
import multiprocessing
import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor

import yaml

from graders import packs, replay
from graders import spec as specs


class Recorder:
    """Puts a recording proxy for each named module in sys.modules (import the checks after this)."""

    def __init__(self, names):
        self.calls, self.surfaces, self.errors = {}, {}, []
        real = {name: importlib.import_module(name) for name in names}  # first, so they keep each other's real code
        for name, module in real.items():
            proxy = types.ModuleType(name, module.__doc__)
            self.surfaces[name] = surface = {"functions": [], "tables": {}, "classes": {}, "constants": {}}
            for attribute, value in vars(module).items():
                wrapped = None if attribute.startswith("_") else self._wrap(name, attribute, value, surface)
                if wrapped is not None:
                    setattr(proxy, attribute, wrapped)
            sys.modules[name] = proxy
            parent, _, child = name.rpartition(".")
            setattr(sys.modules[parent], child, proxy)

    def _wrap(self, module, name, value, surface):
        """The proxy's version of one public attribute, described in `surface`; None for modules. A class stays
        itself: recorded calls take it by name (graders/checks/oracle.py), and the kit knows only that name."""
        if type(value) in (bool, int, float, str):
            surface["constants"][name] = value
            return value
        if inspect.isclass(value):
            surface["classes"][name] = f"{value.__module__}.{value.__qualname__}"
            return value
        if callable(value) and not inspect.isclass(value):
            surface["functions"].append(name)
            return Recording(self, module, name, value)
        entries = table(value)
        if entries is None:
            return None
        siblings = [Recording(self, module, f"{name}[{i}]", fn) for i, (_, fn) in enumerate(entries)]
        for recording in siblings:
            recording.siblings = siblings
        kind = "dict" if isinstance(value, dict) else "pairs"
        surface["tables"][name] = [kind, [entry for entry, _ in entries]]
        pairs = [(entry, recording) for (entry, _), recording in zip(entries, siblings, strict=True)]
        return dict(pairs) if kind == "dict" else pairs


def table(value):
    """[(name, fn)] when `value` is a table of named functions ({name: fn} or [(name, fn)]), else None."""
    entries = list(value.items()) if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else None
    if not entries or not all(isinstance(e, tuple) and len(e) == 2 and type(e[0]) is str and callable(e[1])
                              for e in entries):
        return None
    return entries


class Recording:
    """One function of a proxy: it calls the real one and records the result (or the exception)."""

    def __init__(self, recorder, module, path, fn):
        self.recorder, self.module, self.path, self.real = recorder, module, path, fn
        self.recorded_name = f"{module}.{path}"  # as replay.Replayed's: a call that takes this function hashes it
        self.siblings = [self]

    def __call__(self, *args, **kwargs):
        for sibling in self.siblings:
            if sibling is not self:
                sibling.run(args, kwargs, eager=True)
        return self.run(args, kwargs)

    def run(self, args, kwargs, eager=False):
        where = f"{self.module}.{self.path}"
        try:
            name = replay.key(self.module, self.path, args, kwargs)
        except TypeError as e:
            self.recorder.errors.append(f"{where}: a call cannot be recorded ({e})")
            raise
        if eager and name in self.recorder.calls:
            return None
        try:
            value = self.real(*args, **kwargs)
        except Exception as e:
            self.recorder.calls[name] = ("!", type(e).__name__, str(e))
            if eager:
                return None
            raise
        try:
            self.recorder.calls[name] = ("=", replay.plain(value))
        except TypeError as e:
            self.recorder.errors.append(f"{where}: a result cannot be recorded ({e})")
            raise
        return value


def jobs(spec, correct=False):
    """(sample, checks to run): every check on the reference (and on each correct variant, with `correct`), and on
    each known-bug sample the checks its expected.yaml says it fails."""
    folder = packs.samples(spec.id)
    names = {c.name for p in spec.parts for c in p.checks}
    kinds = ("reference", "correct") if correct else ("reference",)
    found = []
    for path in sorted(folder.glob("*/expected.yaml")):
        expected = yaml.safe_load(path.read_text())
        checks = names if expected["kind"] in kinds else names & set(expected.get("fail") or {})
        if expected["kind"] in (*kinds, "bug") and checks:
            found.append((str(path.parent), sorted(checks)))
    return found


# The samples are trusted code and the recording is no grade: its calls get this many times the spec's time, so a
# busy build machine cannot stop a call, and with it the recording of every call after it (issue 17).
PATIENCE = 20


def record(spec, modules):
    """{"calls", "surfaces"} of `modules` over the samples, run with `spec` (the kit's), one process a core.
    RuntimeError when a call cannot be recorded or the machine kept a check from finishing. Where the kit replays
    reference modules (graders/checks/oracle.py), the correct variants run too: a student's module layout can ask
    the reference for more than the reference's own run does (a fused projection is loaded in the order a probe of
    the reference says)."""
    todo = jobs(spec, correct="graders.checks.oracle" in modules)
    spec = spec.model_copy(update={"limits": spec.limits.model_copy(update={
        "call_seconds": PATIENCE * spec.limits.call_seconds,
        "submission_seconds": PATIENCE * spec.limits.submission_seconds})})
    workers = max(1, min(os.cpu_count() or 1, len(todo)))
    calls, surfaces, errors = {}, {}, []
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                             initargs=(spec.model_dump(mode="json"), modules)) as pool:
        for part, surface, problems in pool.map(_run, todo):
            calls.update(part)
            surfaces.update(surface)
            errors += problems
    if errors:
        raise RuntimeError(f"cannot record {spec.id} for a student kit: {'; '.join(sorted(set(errors)))}")
    return {"calls": dict(sorted(calls.items())), "surfaces": dict(sorted(surfaces.items()))}  # the same kit each build


_worker = {}


def _start(data, modules):
    from graders.sandbox.worker import Zygote

    replay.KIT = True  # run the checks exactly as the kit will
    _worker.update(spec=specs.Assignment.model_validate(data), recorder=Recorder(modules))
    atexit.register(Zygote(preload=_worker["spec"].preload).stop)  # torch imported once per worker, as in a batch


def _run(job):
    """Grade one sample; return what was recorded since the last job of this worker."""
    from graders.grade import grade

    folder, checks = job
    recorder = _worker["recorder"]
    result = grade(folder, _worker["spec"].only(checks), visibility="public")
    recorder.errors += [f"{folder}: {name}: the machine kept it from finishing" for name in result.to_regrade]
    recorder.errors += [f"{folder}: the grader failed: {result.error}"] if result.error else []
    found = recorder.calls, recorder.surfaces, recorder.errors
    recorder.calls, recorder.errors = {}, []
    return found
