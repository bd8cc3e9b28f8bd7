"""Every sample submission gets exactly its expected per-check outcome, and every check is shown able to
fail (some bug sample fails it) and able to pass (every correct sample passes it)."""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import yaml

from graders.grade import grade

SAMPLES = Path(__file__).resolve().parents[1] / "submissions"
ASSIGNMENTS = ["uw-cse447-a2", "cs224n-a5-2021", "cs224n-a5-2023", "cs224n-a4-2024"]


def samples(assignment):
    return sorted(p.parent for p in (SAMPLES / assignment).glob("*/expected.yaml"))


def expected(folder):
    data = yaml.safe_load((folder / "expected.yaml").read_text())
    return data["kind"], data.get("fail") or {}


def _grade(job):
    """(folder, result) or (folder, the exception): one sample's grader failure fails only its own test."""
    assignment, folder = job
    try:
        return folder, grade(folder, assignment)
    except Exception as e:  # noqa: BLE001 - reported by the sample's test
        return folder, e


@pytest.fixture(scope="module")
def graded():
    """Grade every sample once, two at a time (each grading is a grader and a sandbox child, mostly one of
    them busy at a time), for all the tests in this module."""
    jobs = [(a, f) for a in ASSIGNMENTS for f in samples(a)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = dict(pool.map(_grade, jobs))

    def get(assignment, folder):
        if isinstance(results[folder], Exception):
            raise results[folder]
        return results[folder]
    return get


@pytest.mark.parametrize("assignment,folder", [(a, f) for a in ASSIGNMENTS for f in samples(a)],
                         ids=lambda x: x.name if isinstance(x, Path) else x)
def test_sample_outcome(graded, assignment, folder):
    kind, fail = expected(folder)
    result = graded(assignment, folder)
    for _, check in result.checks():
        outcome = result.outcomes[check.name]
        if check.name in fail:
            assert not outcome.passed, f"{check.name} should fail"
            assert fail[check.name] in outcome.output, f"{check.name} feedback lacks {fail[check.name]!r}:\n{outcome.output}"
        else:
            assert outcome.passed, f"{check.name} should pass, got:\n{outcome.output}"
    if kind in ("reference", "correct"):
        assert not fail and result.score == result.spec.max_score
    else:
        assert kind == "bug" and fail and result.score < result.spec.max_score


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_check_can_fail_and_pass(assignment):
    from graders import spec

    checks = {c.name for p in spec.get(assignment).parts for c in p.checks}
    kinds = [expected(f) for f in samples(assignment)]
    caught = set().union(*(set(fail) for kind, fail in kinds if kind == "bug"))
    assert checks - caught == set(), "checks that no known-bug sample fails"
    assert sum(kind == "correct" for kind, _ in kinds) >= 4
    assert sum(kind == "bug" for kind, _ in kinds) >= 14
    assert sum(kind == "reference" for kind, _ in kinds) == 1
