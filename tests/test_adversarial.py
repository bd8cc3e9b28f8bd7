"""The adversarial and bad-input catalogue (submissions/adversarial/), graded through the real command.

Exploits never score more than plain wrong code; bad inputs get their specific message and the other parts
are still graded; honest controls keep full marks; the grader exits 0 or 1 with a valid results.json, and
leaves nothing behind: no process of a sandbox uid, no file in /tmp or /dev/shm, no SysV shared memory.
"""
import fcntl
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from graders.sandbox.worker import FIRST_UID, LOCKS, SLOTS

CATALOGUE = Path(__file__).resolve().parents[1] / "submissions" / "adversarial"
SAMPLES = sorted(p.parent for p in CATALOGUE.glob("*/expected.yaml"))
SANDBOX_UIDS = range(FIRST_UID, FIRST_UID + SLOTS)


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


def ours(directory):
    """Entries of `directory` owned by a sandbox uid that no live worker holds."""
    names = set()
    for name in os.listdir(directory):
        try:
            if orphaned(os.lstat(os.path.join(directory, name)).st_uid):
                names.add(name)
        except FileNotFoundError:
            pass
    return names


def leftovers():
    """What a submission could leave behind on this machine."""
    processes = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if orphaned(os.stat(f"/proc/{pid}").st_uid):
                processes.add(pid)
        except FileNotFoundError:
            pass
    ipcs = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout if os.path.exists("/usr/bin/ipcs") else ""
    return {"processes": processes, "tmp": ours(tempfile.gettempdir()), "dev_shm": ours("/dev/shm"),
            "sysv_shm": {line for line in ipcs.splitlines() if line.startswith("0x")}}


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
    before = leftovers()
    run = subprocess.run([sys.executable, "-m", "graders", "grade", str(target), "--assignment", "uw-cse447-a2",
                          "--out", str(out)], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "GRADERS_SPECS": str(specs)})
    after = leftovers()
    results = json.loads((out / "results.json").read_text())
    feedback = {t["name"]: t["output"] for t in results["tests"]}
    hidden = results["extra_data"].get("hidden_feedback", {})
    return run, results, feedback, hidden, {k: after[k] - before[k] for k in after if after[k] - before[k]}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, specs):
    folders = [f for f in SAMPLES if expected(f)["kind"] == "baseline"]
    assert len(folders) == 1, "exactly one baseline (plain wrong code) sample"
    return grade(folders[0], tmp_path_factory.mktemp("baseline"), specs)[1]["score"]


def check_outputs(spec, results, hidden):
    """check name -> (passed, feedback), with hidden checks' feedback taken from extra_data."""
    names = [c.name for p in spec.parts for c in p.checks]
    tests = [t for t in results["tests"] if t["name"] != "Grader"]
    return {name: (t["status"] == "passed", hidden.get(name, t["output"])) for name, t in zip(names, tests, strict=True)}


@pytest.mark.parametrize("folder", SAMPLES, ids=lambda f: f.name)
def test_catalogue(folder, baseline, specs, tmp_path, a2_spec):
    want = expected(folder)
    run, results, _, hidden, left = grade(folder, tmp_path, specs)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert not left, f"left behind: {left}"
    if want["kind"] == "exploit":
        assert results["score"] <= baseline, f"exploit scored {results['score']} > plain wrong code {baseline}"
    elif want["kind"] == "control":
        assert results["score"] == a2_spec.max_score
    elif want["kind"] == "bad-input":
        outputs = check_outputs(a2_spec, results, hidden)
        for check, text in want.get("messages", {}).items():
            assert not outputs[check][0] and text in outputs[check][1], f"{check}: {outputs[check][1]}"
        for check in want.get("passes", []):
            assert outputs[check][0], f"{check} should still pass: {outputs[check][1]}"
    else:
        assert want["kind"] == "baseline"


def test_catalogue_is_complete():
    kinds = [expected(f)["kind"] for f in SAMPLES]
    assert kinds.count("exploit") >= 25 and kinds.count("bad-input") >= 15 and kinds.count("control") >= 1
