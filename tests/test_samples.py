"""Every sample submission gets exactly its expected per-check outcome, and every check is shown able to
fail (some bug sample fails it) and able to pass (every correct sample passes it).

Each assignment's samples are graded as one class by the real `graders batch` (tests/test_batch.py shows it
grades exactly as `graders grade` does); outcomes are read back from each sample's results.json, hidden
checks' feedback from its extra_data."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from graders import expected, packs, verify
from graders import spec as specs
from graders.thresholds import PENDING_NOTE

# Every assignment with a sample class: a new one is tested without being listed here.
ASSIGNMENTS = list(packs.specs())


samples = verify.samples


def fixture_group(item):
    """Tests of one assignment share its batch (tests/conftest.py)."""
    params = getattr(item, "callspec", None)
    return "samples-" + (params.params["assignment"] if params and "assignment" in params.params else "uw-cse447-a2")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every assignment's samples, one batch each; threshold checks stay pending (they train models:
    tests/test_thresholds.py)."""
    out = tmp_path_factory.mktemp("samples")

    def get(assignment, folder):
        if not (out / assignment).exists():  # graded when a test first asks, so `-k ASSIGNMENT` grades one class
            run = subprocess.run([sys.executable, "-m", "graders", "batch", str(packs.samples(assignment)), "--assignment",
                                  assignment, "--out", str(out / assignment), "--profile", "full"],
                                 capture_output=True, text=True, timeout=1800)
            # 1 when a sample's grade disagrees with its expected.yaml: test_sample_outcome then names the checks
            assert run.returncode == 0 or (run.returncode == 1 and "agree with their" in run.stderr), run.stderr[-3000:]
        results = json.loads((out / assignment / "students" / folder.name / "results.json").read_text())
        return specs.get(assignment), results
    return get


@pytest.mark.parametrize("assignment,folder", [(a, f) for a in ASSIGNMENTS for f in samples(a)],
                         ids=lambda x: x.name if isinstance(x, Path) else x)
def test_sample_outcome(graded, assignment, folder):
    spec, results = graded(assignment, folder)
    assert expected.disagreements(spec, expected.Expected.read(folder), results) == []
    got = expected.outcomes(spec, results)
    for check in (c for p in spec.parts for c in p.checks if c.job):
        assert got[check.name] == (False, got[check.name][1]) and got[check.name][1].startswith(PENDING_NOTE)


def test_a_grade_that_disagrees_with_its_sample_is_named(graded):
    """The agreement `graders demo` reports can fail: a correct sample's grade with one check failed, and a bug
    sample's grade with its named check passed, each disagree and say which check."""
    folder = packs.samples("uw-cse447-a2") / "bug-mask-inverted"
    spec, results = graded("uw-cse447-a2", folder)
    bug = expected.Expected.read(folder)
    flipped = {**results, "tests": [{**t, "status": "passed"} for t in results["tests"]]}
    assert any(f"{name} should fail" in line for name in bug.fail for line in expected.disagreements(spec, bug, flipped))
    correct = expected.Expected(kind="correct", implements=bug.implements)
    assert any("should pass" in line for line in expected.disagreements(spec, correct, results))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_check_can_fail_and_pass(assignment):
    """The sample rules of `graders verify` (graders/verify.py), for every discovered pack."""
    assert verify.coverage(assignment) == []
