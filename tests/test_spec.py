"""Specs load, agree with their check modules, and a bad spec is reported by file and field."""
import importlib
from pathlib import Path

import pytest

from graders import spec


def test_every_spec_loads_and_names_only_existing_checks():
    for assignment in spec.available().values():
        package = importlib.import_module(assignment.checks)
        tests = set()
        for path in Path(package.__file__).parent.glob("test_*.py"):
            module = importlib.import_module(f"{assignment.checks}.{path.stem}")  # what pytest collects from it
            tests |= {name for name, value in vars(module).items() if name.startswith("test_") and callable(value)}
        named = {c.name for p in assignment.parts for c in p.checks if not c.job}
        assert named == tests, f"{assignment.id}: spec and checks disagree"
        for job in assignment.jobs.values():  # a threshold check's driver: its job's inputs, score and code
            driver = importlib.import_module(job.driver)
            assert callable(driver.inputs) and callable(driver.score) and driver.JOB.is_file()
            assert {"smoke", "full"} <= set(job.profiles)


def test_a2_is_worth_the_courses_20_points(a2_spec):
    """§2.1 (A2S2.py) carries the course's 20 points; other sections' parts come on top."""
    assert sum(c.points for p in a2_spec.parts if p.file == "A2S2.py" for c in p.checks) == 20


def test_a_data_file_needs_no_module_and_a_source_file_does():
    assert spec.SourceSpec(name="answers.yaml", data=True).module == ""
    with pytest.raises(ValueError, match="a source file needs `module`"):
        spec.SourceSpec(name="A2S1.py")


@pytest.mark.parametrize("edit,message", [
    (lambda t: t.replace("points: 2}", "points: -2}", 1), "field parts.0.checks.0.points: Input should be greater than or equal to 0"),
    (lambda t: t.replace("    file: A2S2.py\n", "    file: A2S9.py\n", 1), "parts.0.file: 'A2S9.py' is not one of files"),
    (lambda t: t.replace("course: UW CSE 447/517\n", ""), "field course: Field required"),
    (lambda t: t + "colour: blue\n", "field colour: Extra inputs are not permitted"),
    (lambda t: t.replace("test_attn_scaled,", "test_pairwise_similarities,"), "check names must be unique"),
    (lambda t: t.replace("points: 2}", "points: 2, job: train}", 1), "parts.0.checks.0.job: 'train' is not one of jobs"),
])
def test_bad_specs_name_the_file_and_the_field(tmp_path, edit, message):
    path = tmp_path / "bad.yaml"
    path.write_text(edit((spec.SPECS_DIR / "uw-cse447-a2.yaml").read_text()))
    with pytest.raises(spec.SpecError) as e:
        spec.load(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value)
