"""The adversarial and bad-input catalogue (submissions/adversarial/), graded through the real commands.

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

from graders.sandbox.worker import FIRST_UID, LOCKS, SLOTS

CATALOGUE = Path(__file__).resolve().parents[1] / "submissions" / "adversarial"
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


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    """The A2S2 spec with tighter limits, so that submissions that hang use up their budget quickly."""
    folder = tmp_path_factory.mktemp("specs")
    text = (Path(__file__).resolve().parents[1] / "specs" / "uw-cse447-a2.yaml").read_text()
    text = text.replace("call_seconds: 10", "call_seconds: 3").replace("submission_seconds: 120", "submission_seconds: 30")
    (folder / "uw-cse447-a2.yaml").write_text(text)
    return folder


def grade(folder, out, specs):
    target = folder / expected(folder).get("submit", ".")
    with leftovers() as left:
        run = subprocess.run([sys.executable, "-m", "graders", "grade", str(target), "--assignment", "uw-cse447-a2",
                              "--out", str(out)], capture_output=True, text=True, timeout=600,
                             env={**os.environ, "GRADERS_SPECS": str(specs)})
    return (run, *read(out)), left


def read(out):
    results = json.loads((out / "results.json").read_text())
    return results, results["extra_data"].get("hidden_feedback", {})


def has_links(folder):
    return any(p.is_symlink() for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory, specs):
    """The catalogue as one class, one entry per sample named after it. Samples holding symlinks are left to
    the cold runs: a copy would change where their links point."""
    tmp = tmp_path_factory.mktemp("catalogue")
    (tmp / "class").mkdir()
    for folder in SAMPLES:
        submit = expected(folder).get("submit")
        if has_links(folder):
            continue
        if submit:
            shutil.copy(folder / submit, tmp / "class" / (folder.name + Path(submit).suffix))
        else:
            shutil.copytree(folder, tmp / "class" / folder.name)
    with leftovers() as left:
        run = subprocess.run([sys.executable, "-m", "graders", "batch", str(tmp / "class"), "--assignment",
                              "uw-cse447-a2", "--out", str(tmp / "out")], capture_output=True, text=True,
                             timeout=1200, env={**os.environ, "GRADERS_SPECS": str(specs)})
    assert run.returncode == 0, run.stderr[-3000:]
    return tmp / "out", left


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, specs):
    folders = [f for f in SAMPLES if expected(f)["kind"] == "baseline"]
    assert len(folders) == 1, "exactly one baseline (plain wrong code) sample"
    return grade(folders[0], tmp_path_factory.mktemp("baseline"), specs)[0][1]["score"]


def check_outputs(spec, results, hidden):
    """check name -> (passed, feedback), with hidden checks' feedback taken from extra_data."""
    names = [c.name for p in spec.parts for c in p.checks]
    tests = [t for t in results["tests"] if t["name"] != "Grader"]
    return {name: (t["status"] == "passed", hidden.get(name, t["output"])) for name, t in zip(names, tests, strict=True)}


def judge(want, results, hidden, baseline, spec):
    if want["kind"] == "exploit":
        assert results["score"] <= baseline, f"exploit scored {results['score']} > plain wrong code {baseline}"
    elif want["kind"] == "control":  # honest A2S2 code: full marks on every A2S2 part (the other sections are absent)
        assert results["score"] == sum(c.points for p in spec.parts if p.file == "A2S2.py" for c in p.checks)
    elif want["kind"] == "bad-input":
        outputs = check_outputs(spec, results, hidden)
        for check, text in want.get("messages", {}).items():
            assert not outputs[check][0] and text in outputs[check][1], f"{check}: {outputs[check][1]}"
        for check in want.get("passes", []):
            assert outputs[check][0], f"{check} should still pass: {outputs[check][1]}"
    else:
        assert want["kind"] == "baseline"


@pytest.mark.parametrize("folder", [f for f in SAMPLES if not has_links(f)], ids=lambda f: f.name)
def test_catalogue_in_batch(folder, batch, baseline, a2_spec):
    out, left = batch
    assert not left, f"the batch left behind: {left}"
    judge(expected(folder), *read(out / "students" / folder.name), baseline, a2_spec)


@pytest.mark.parametrize("folder", [f for f in SAMPLES if f.name in COLD], ids=lambda f: f.name)
def test_catalogue_cold(folder, baseline, specs, tmp_path, a2_spec):
    (run, results, hidden), left = grade(folder, tmp_path, specs)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert not left, f"left behind: {left}"
    judge(expected(folder), results, hidden, baseline, a2_spec)


def test_catalogue_is_complete():
    assert COLD <= {f.name for f in SAMPLES}
    assert all(f.name in COLD for f in SAMPLES if has_links(f)), "a sample with links is graded cold"
    kinds = [expected(f)["kind"] for f in SAMPLES]
    assert kinds.count("exploit") >= 25 and kinds.count("bad-input") >= 15 and kinds.count("control") >= 1
