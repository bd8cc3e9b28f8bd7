"""The adversarial and bad-input catalogue (adversarial/), graded through the real commands.

Exploits never score more than plain wrong code; bad inputs get their specific message and the other parts
are still graded; honest controls keep full marks; the grader exits 0 or 1 with a valid results.json, and
leaves nothing behind: no process of a sandbox uid, no file in /tmp or /dev/shm, no SysV shared memory.

The whole catalogue goes through `graders batch` as one class (sandbox children forked from the zygote);
the samples that attack the grader's own process, the intake or the host also go through one cold
`graders grade` each (children exec'd afresh), so leftovers can be traced to a single sample.
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from graders import packs
from graders.sandbox.worker import FIRST_UID, LOCKS, SLOTS

CATALOGUE = Path(__file__).resolve().parents[1] / "adversarial"
SAMPLES = sorted(p.parent for p in CATALOGUE.glob("*/expected.yaml"))
SANDBOX_UIDS = range(FIRST_UID, FIRST_UID + SLOTS)
COLD = {"plain-wrong", "kill-parent", "killpg-parent", "kill-all", "ptrace-parent", "proc-parent-mem",
        "proc-parent-environ", "proc-parent-cmdline", "forge-results-exit", "feedback-forgery", "fork-bomb",
        "disk-fill", "undo-confinement", "read-ref-known-path", "subprocess-cat-reference",
        "read-other-sandboxes", "protocol-fd-forge", "zip-slip", "zip-symlink", "symlink-file", "symlink-dir",
        "control-threads-einsum"}


def expected(folder):
    return yaml.safe_load((folder / "expected.yaml").read_text())


def slot_in_use(uid):
    """A live worker holds the lock of its uid slot: its processes and files are not leftovers."""
    lock = LOCKS / f"{uid - FIRST_UID}.lock"
    if not lock.exists():
        return False
    with open(lock) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def orphaned(uid):
    return uid in SANDBOX_UIDS and not slot_in_use(uid)


def sandboxed(uid):
    return uid in SANDBOX_UIDS


def ours(directory, owner):
    """Entries of `directory` whose owner uid passes `owner`."""
    names = set()
    for name in os.listdir(directory):
        try:
            if owner(os.lstat(os.path.join(directory, name)).st_uid):
                names.add(name)
        except FileNotFoundError:
            pass
    return names


def sandbox_things(owner):
    """What a submission could leave behind on this machine, owned by a uid that passes `owner`."""
    processes = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if owner(os.stat(f"/proc/{pid}").st_uid):
                processes.add(pid)
        except FileNotFoundError:
            pass
    ipcs = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout if os.path.exists("/usr/bin/ipcs") else ""
    return {"processes": processes, "tmp": ours(tempfile.gettempdir(), owner), "dev_shm": ours("/dev/shm", owner),
            "sysv_shm": {line for line in ipcs.splitlines() if line.startswith("0x")}}


@contextmanager
def leftovers():
    """Yields a dict that, on exit, holds what appeared meanwhile and outlived its worker: things of a sandbox
    uid no live worker holds. Anything of a sandbox uid that existed before (another run's) does not count."""
    left, before = {}, sandbox_things(sandboxed)
    yield left
    after = sandbox_things(orphaned)
    left.update({k: after[k] - before[k] for k in after if after[k] - before[k]})


DEFAULT_ASSIGNMENT = "uw-cse447-a2"


def group(folder):
    """(assignment, profile) a sample is graded with. `profile` full (the default) leaves threshold checks pending
    (no GPU here); smoke trains them, so a sample that attacks a training job says so."""
    want = expected(folder)
    return want.get("assignment", DEFAULT_ASSIGNMENT), want.get("profile", "full")


# The course secret the smoke groups' training jobs draw their data from: the same data on every run (a course sets
# GRADERS_SECRET for regrades that reproduce; without it each grading draws its own).
SECRET = "adversarial catalogue"


def fixture_group(item):
    """Tests of one (assignment, profile) share its batch (tests/conftest.py)."""
    params = getattr(item, "callspec", None)
    folder = params.params.get("folder") if params else None
    return "adversarial-" + "-".join(group(folder)) if folder else "adversarial"


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    """A folder of specs per profile: every spec, the A2S2 one with tighter limits, so that submissions that hang
    use up their budget quickly; under smoke, a spec with training jobs keeps only the parts that train, which is
    what those samples attack (their other checks are the full groups' business, and cost no training)."""
    folder = tmp_path_factory.mktemp("specs")
    for profile in ("full", "smoke"):
        (folder / profile).mkdir()
    for source, _ in packs.specs().values():
        text = source.read_text()
        if source.stem == DEFAULT_ASSIGNMENT:
            text = text.replace("call_seconds: 10", "call_seconds: 3").replace("submission_seconds: 120",
                                                                               "submission_seconds: 30")
        (folder / "full" / source.name).write_text(text)
        data = yaml.safe_load(text)
        if data.get("jobs"):
            data["parts"] = [p for p in data["parts"] if any(c.get("job") for c in p["checks"])]
        (folder / "smoke" / source.name).write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def command(verb, target, out, folder_group, specs, timeout):
    assignment, profile = folder_group
    return subprocess.run([sys.executable, "-m", "graders", verb, str(target), "--assignment", assignment,
                           "--profile", profile, "--out", str(out)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "GRADERS_SPECS": str(specs / profile),
                                                "GRADERS_SECRET": SECRET})


def grade(folder, out, specs):
    target = folder / expected(folder).get("submit", ".")
    with leftovers() as left:
        run = command("grade", target, out, group(folder), specs, 600)
    return (run, *read(out)), left


def read(out):
    results = json.loads((out / "results.json").read_text())
    return results, results["extra_data"].get("hidden_feedback", {})


def has_links(folder):
    return any(p.is_symlink() for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory, specs):
    """get(group): the catalogue's samples of that (assignment, profile) as one class, one entry per sample named
    after it, graded once. Samples holding symlinks are left to the cold runs: a copy would change where their
    links point."""
    done = {}

    def get(key):
        if key not in done:
            tmp = tmp_path_factory.mktemp("catalogue")
            (tmp / "class").mkdir()
            for folder in SAMPLES:
                submit = expected(folder).get("submit")
                if has_links(folder) or group(folder) != key:
                    continue
                if submit:
                    shutil.copy(folder / submit, tmp / "class" / (folder.name + Path(submit).suffix))
                else:
                    shutil.copytree(folder, tmp / "class" / folder.name,
                                    ignore=shutil.ignore_patterns("expected.yaml"))
            with leftovers() as left:
                run = command("batch", tmp / "class", tmp / "out", key, specs, 1800)
            assert run.returncode == 0, run.stderr[-3000:]
            done[key] = tmp / "out", left
        return done[key]

    return get


@pytest.fixture(scope="module")
def baseline(batch):
    """get(group): the score of that group's plain wrong code (its one sample of kind baseline), as its batch graded
    it (batch and cold grades agree: tests/test_batch.py), so a group that trains pays for it once."""

    def get(key):
        folders = [f for f in SAMPLES if expected(f)["kind"] == "baseline" and group(f) == key]
        assert len(folders) == 1 and not has_links(folders[0]), f"exactly one baseline (plain wrong code) for {key}"
        return read(batch(key)[0] / "students" / folders[0].name)[0]["score"]

    return get


def handed_in(folder, spec):
    """The spec's files a sample hands in: named in `full_marks`, else present in its folder (or its one
    submitted file, e.g. A2S2.ipynb for A2S2.py)."""
    want = expected(folder)
    if "full_marks" in want:
        return set(want["full_marks"])
    stems = {Path(want["submit"]).stem} if want.get("submit") else {p.stem for p in folder.iterdir()}
    return {f.name for f in spec.files if Path(f.name).stem in stems}


def check_outputs(spec, results, hidden):
    """check name -> (passed, feedback), with hidden checks' feedback taken from extra_data."""
    names = [c.name for p in spec.parts for c in p.checks]
    tests = [t for t in results["tests"] if t["name"] != "Grader"]
    return {name: (t["status"] == "passed", hidden.get(name, t["output"])) for name, t in zip(names, tests, strict=True)}


def judge(folder, results, hidden, baseline, spec):
    want, (_, profile) = expected(folder), group(folder)
    if "seconds" in want:  # a reader bomb: the grader's own work on it stays short
        assert results["execution_time"] <= want["seconds"], f"graded in {results['execution_time']} s"
    if want["kind"] == "exploit":
        assert results["score"] <= baseline, f"exploit scored {results['score']} > plain wrong code {baseline}"
    elif want["kind"] == "control":  # honest code: full marks on every part of the files it hands in
        files = handed_in(folder, spec)
        full = sum(c.points for p in spec.parts if p.file in files for c in p.checks if profile == "smoke" or not c.job)
        assert files and results["score"] == full, f"control scored {results['score']} of {full} ({sorted(files)})"
    elif want["kind"] == "bad-input":
        outputs = check_outputs(spec, results, hidden)
        for check, text in want.get("messages", {}).items():
            assert not outputs[check][0] and text in outputs[check][1], f"{check}: {outputs[check][1]}"
        for check in want.get("passes", []):
            assert outputs[check][0], f"{check} should still pass: {outputs[check][1]}"
    else:
        assert want["kind"] == "baseline"


def spec_of(folder, specs):
    """The spec the sample was graded with (its profile's copy)."""
    from graders import spec

    assignment, profile = group(folder)
    return spec.load(specs / profile / f"{assignment}.yaml")


@pytest.mark.parametrize("folder", [f for f in SAMPLES if not has_links(f)], ids=lambda f: f.name)
def test_catalogue_in_batch(folder, batch, baseline, specs):
    out, left = batch(group(folder))
    assert not left, f"the batch left behind: {left}"
    judge(folder, *read(out / "students" / folder.name), baseline(group(folder)), spec_of(folder, specs))


@pytest.mark.parametrize("folder", [f for f in SAMPLES if f.name in COLD], ids=lambda f: f.name)
def test_catalogue_cold(folder, baseline, specs, tmp_path):
    (run, results, hidden), left = grade(folder, tmp_path, specs)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert not left, f"left behind: {left}"
    judge(folder, results, hidden, baseline(group(folder)), spec_of(folder, specs))


def test_catalogue_is_complete():
    assert COLD <= {f.name for f in SAMPLES}
    assert all(f.name in COLD for f in SAMPLES if has_links(f)), "a sample with links is graded cold"
    kinds = [expected(f)["kind"] for f in SAMPLES]
    assert kinds.count("exploit") >= 25 and kinds.count("bad-input") >= 15 and kinds.count("control") >= 1
