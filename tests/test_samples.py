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
import yaml

from graders import spec as specs

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
ASSIGNMENTS = ["uw-cse447-a2", "cs224n-a5-2021", "cs224n-a5-2023", "cs224n-a4-2024", "jhu-cs601-hw5", "ucsd-cse256-pa2",
               "jhu-cs601-hw6"]


def samples(assignment):
    return sorted(p.parent for p in (SAMPLES / assignment).glob("*/expected.yaml"))


def declared(folder):
    """expected.yaml: kind (reference, correct, bug, or unchecked: code the grader cannot read, whose checks in
    `fail` must each say so as the kind "unchecked"), the checks it fails with the words of their feedback (fail),
    the words of a passing check's note (notes), the spec files it implements (implements)."""
    return yaml.safe_load((folder / "expected.yaml").read_text())


def expected(folder):
    data = declared(folder)
    return data["kind"], data.get("fail") or {}


def implemented(spec, folder):
    """The checks of the spec files this sample implements: expected.yaml's `implements` (file names), all of
    them when absent. A sample of one section of a multi-file assignment leaves the other files out."""
    files = declared(folder).get("implements") or [f.name for f in spec.files]
    return [c for p in spec.parts if p.file in files for c in p.checks if not c.job]


def numbered(spec):
    """A results.json test's number -> the spec's check."""
    return {f"{p}.{c}": check for p, part in enumerate(spec.parts, 1) for c, check in enumerate(part.checks, 1)}


def outcomes(spec, results):
    """check name -> (passed, feedback) for the checks that ran, from a results.json."""
    checks = numbered(spec)
    hidden = results["extra_data"]["hidden_feedback"]
    return {checks[t["number"]].name: (t["status"] == "passed", hidden.get(checks[t["number"]].name, t["output"]))
            for t in results["tests"] if t["number"] in checks}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every assignment's samples, one batch each; threshold checks stay pending (they train models:
    tests/test_thresholds.py)."""
    out = tmp_path_factory.mktemp("samples")

    def get(assignment, folder):
        if not (out / assignment).exists():  # graded when a test first asks, so `-k ASSIGNMENT` grades one class
            run = subprocess.run([sys.executable, "-m", "graders", "batch", str(SAMPLES / assignment), "--assignment",
                                  assignment, "--out", str(out / assignment), "--profile", "full"],
                                 capture_output=True, text=True, timeout=1800)
            assert run.returncode == 0, run.stderr[-3000:]
        results = json.loads((out / assignment / "students" / folder.name / "results.json").read_text())
        return specs.get(assignment), results
    return get


@pytest.mark.parametrize("assignment,folder", [(a, f) for a in ASSIGNMENTS for f in samples(a)],
                         ids=lambda x: x.name if isinstance(x, Path) else x)
def test_sample_outcome(graded, assignment, folder):
    kind, fail = expected(folder)
    spec, results = graded(assignment, folder)
    got = outcomes(spec, results)
    graded_checks = implemented(spec, folder)
    assert not [t["output"] for t in results["tests"] if t["name"] == "Grader"], "the grader failed"
    for check in (c for p in spec.parts for c in p.checks if not c.job and c not in graded_checks):
        passed, output = got[check.name]
        assert not passed and "was not found in the submission" in output, f"{check.name}: {output}"
    for check in graded_checks:
        passed, output = got[check.name]
        if check.name in fail:
            assert not passed, f"{check.name} should fail"
            assert fail[check.name] in output, f"{check.name} feedback lacks {fail[check.name]!r}:\n{output}"
        else:
            assert passed, f"{check.name} should pass, got:\n{output}"
    for name, words in (declared(folder).get("notes") or {}).items():
        assert words in got[name][1], f"{name}'s note lacks {words!r}:\n{got[name][1]}"
    for check in (c for p in spec.parts for c in p.checks if c.job):
        assert got[check.name] == (False, got[check.name][1]) and got[check.name][1].startswith("Pending:")
    score = sum(c.points for c in graded_checks if got[c.name][0])
    assert results["score"] == score
    if kind in ("reference", "correct"):
        assert not fail and score == sum(c.points for c in graded_checks)
    else:
        assert kind in ("bug", "unchecked") and fail and score < sum(c.points for c in graded_checks)
    if kind == "unchecked":  # never a verdict on the code: each failed check is "could not be checked"
        checks = numbered(spec)
        assert {checks[t["number"]].name for t in results["tests"] if "unchecked" in t["tags"]} == set(fail)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_check_can_fail_and_pass(assignment):
    from graders import spec

    checks = {c.name for p in spec.get(assignment).parts for c in p.checks if not c.job}
    kinds = [expected(f) for f in samples(assignment)]
    caught = set().union(*(set(fail) for kind, fail in kinds if kind == "bug"))
    assert checks - caught == set(), "checks that no known-bug sample fails"
    assert sum(kind == "correct" for kind, _ in kinds) >= 4
    assert sum(kind == "bug" for kind, _ in kinds) >= 14
    assert sum(kind == "reference" for kind, _ in kinds) == 1
