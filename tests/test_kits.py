"""Issue 17, "Done when": each of the seven assignments' kits, built from the repo, installs into a fresh venv that
already has torch without pulling it, gives the reference full marks on every check it ships, and grades samples with
the autograder's verdicts and diagnoses.

Every sample of the class is graded inside the kit when it is built (graders/kitcheck.py: the build fails on any
verdict or diagnosis unlike the sample's expected.yaml, which tests/test_samples.py holds the autograder to). The
installed kit then runs its `selfcheck.py`, as a student does, on the reference and a known bug, compared with their
expected.yaml. benchmarks/kits.py, whose steps this uses, compares every sample with a live `graders grade
--visibility public` too; it grades each sample twice more, which the suite cannot afford."""
import importlib.util
from pathlib import Path

import pytest

from graders import kitcheck
from graders import package as packaging
from graders import spec as specs

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "kits.py"
SEVEN = ["uw-cse447-a2", "cs224n-a5-2021", "cs224n-a5-2023", "cs224n-a4-2024", "jhu-cs601-hw5", "jhu-cs601-hw6",
         "ucsd-cse256-pa2"]  # docs/architecture.md: the assignment ids that keep their meaning


def benchmark():
    spec = importlib.util.spec_from_file_location("kits_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kits(tmp_path_factory):
    """benchmarks/kits.py, and a folder of links to the torch installed here that fresh venvs see."""
    module = benchmark()
    return module, module.torch_site(tmp_path_factory.mktemp("torch-site"))


def compared(assignment):
    """The reference, and the first known bug that fails a check the kit ships."""
    shipped = {c.name for c in packaging.Kit.plan(specs.get(assignment)).included}
    found = kitcheck.samples(assignment)
    return [next(p for p, e in found if e.kind == "reference"),
            next(p for p, e in found if e.kind == "bug" and shipped & set(e.fail))]


@pytest.mark.parametrize("assignment", SEVEN)
def test_kit_installs_without_torch_and_grades_as_the_autograder(assignment, student_kit, kits, tmp_path):
    module, site = kits
    root, _ = student_kit(assignment)
    row, problems = module.compare(root, assignment, compared(assignment), tmp_path, site, live=False)
    assert problems == [], problems
    shipped, visible = map(int, row["checks"].split("/"))
    assert shipped == len(packaging.Kit.plan(specs.get(assignment)).included) > 0 and shipped <= visible
    assert row["agreeing"] == "2/2", row  # install time: benchmarks/kits.py (no timed tests)


def test_the_comparison_sees_a_verdict_or_a_diagnosis_unlike_the_autograder(a2_spec):
    kits = benchmark()
    (part_one, one), (part_two, two) = [(p, c) for p in a2_spec.parts for c in p.checks][:2]
    report = (f"{a2_spec.title}\nFAIL 0/2  {part_one.id}: {one.title}\n      Input: x\n      Diagnosis: not scaled\n"
              f"PASS 2/2  {part_two.id}: {two.title}\nScore: 2/4\n(Public checks only.)\n\n"
              f"{kits.KIT_HEADING}\n  This self-check kit runs 2 of the assignment's 9 checks.")
    found, extra = kits.parse_report(report, a2_spec)
    assert found == {one.name: (False, "Input: x\nDiagnosis: not scaled"), two.name: (True, "")}
    assert "runs 2 of" in extra
    assert kits.disagreements(found, {one.name: (False, "not scaled"), two.name: (True, None)}) == []
    assert kits.disagreements(found, {one.name: (False, "other bug"), two.name: (True, None)})
    assert kits.disagreements(found, {one.name: (False, "not scaled"), two.name: (False, None)})
    assert kits.disagreements(found, {one.name: (False, "not scaled")})
    assert kits.disagreements(found, {"": (False, "the grader failed")})
