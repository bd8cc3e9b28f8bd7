"""Specs load, agree with their check modules, and a bad spec is reported by file and field."""
import importlib
from pathlib import Path

import pytest
import yaml

from graders import packs, spec


def test_every_spec_loads_and_names_only_existing_checks():
    for assignment in spec.available().values():
        package = importlib.import_module(assignment.checks)
        tests = set()
        for path in Path(package.__file__).parent.glob("test_*.py"):
            module = importlib.import_module(f"{assignment.checks}.{path.stem}")  # what pytest collects from it
            tests |= {name for name, value in vars(module).items() if name.startswith("test_") and callable(value)}
        named = {c.name for p in assignment.parts for c in p.checks if not c.job}
        if "extends" in yaml.safe_load(packs.spec_path(assignment.id).read_text()):
            assert named <= tests, f"{assignment.id}: spec names checks its module lacks"  # may grade fewer
        else:
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
    path.write_text(edit(packs.spec_path("uw-cse447-a2").read_text()))
    with pytest.raises(spec.SpecError) as e:
        spec.load(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value)


def variant(tmp_path, **fields):
    """A spec of another offering of UW A2, next to a copy of its base."""
    (tmp_path / "uw-cse447-a2.yaml").write_text(packs.spec_path("uw-cse447-a2").read_text())
    data = {"extends": "uw-cse447-a2", "id": "uw-other", "title": "another offering", "handout": "a test's",
            **fields}
    path = tmp_path / "uw-other.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_an_offering_says_only_what_differs_from_its_base(tmp_path, a2_spec):
    new_part = {"id": "a2s1_selection", "title": "§1.2 as this offering asks", "file": "A2S1.py",
                "checks": [{"name": "test_query121", "title": "query121 only", "points": 2}]}
    got = spec.load(variant(tmp_path, options={"mask_polarity": "any"}, without_files=["A2S3.py"],
                            without_parts=["a2s1_averaging"], parts=[new_part], limits={"call_seconds": 20}))
    assert (got.id, got.handout) == ("uw-other", "a test's")
    assert "A2S3.py" not in {f.name for f in got.files} and not any(p.file == "A2S3.py" for p in got.parts)
    ids = [p.id for p in got.parts]
    assert "a2s1_averaging" not in ids and ids.index("a2s1_selection") == [p.id for p in a2_spec.parts].index(
        "a2s1_selection")  # replaced in its place
    assert got.source("A2S2.py") == a2_spec.source("A2S2.py")
    assert next(p for p in got.parts if p.id == "a2s1_selection").checks[0].points == 2
    assert got.options["mask_polarity"] == "any" and got.limits.call_seconds == 20
    assert got.limits.memory_mib == a2_spec.limits.memory_mib and got.tolerances == a2_spec.tolerances


def test_an_offering_replaces_adds_and_drops_rules_by_id(tmp_path, a2_spec):
    base = a2_spec.rules[0].model_dump()
    got = spec.load(variant(tmp_path, rules=[base | {"cost": {"deduct": 2}}, base | {"id": "more", "cost": "flag"}]))
    assert [(r.id, r.cost) for r in got.rules] == [(base["id"], spec.Deduct(deduct=2)), ("more", "flag")]
    assert spec.load(variant(tmp_path, without_rules=[base["id"]])).rules == []
    assert spec.load(variant(tmp_path, without_files=["A2S2.py"])).rules == []  # a rule goes with its file


@pytest.mark.parametrize("fields,message", [
    ({"without_parts": ["a2s9"]}, "field without_parts: ['a2s9'] not in uw-cse447-a2"),
    ({"without_rules": ["a2s9"]}, "field without_rules: ['a2s9'] not in uw-cse447-a2"),
    ({"extends": "uw-cse447-a9"}, "field extends: 'uw-cse447-a9' is not another spec"),
    ({"extends": "uw-other"}, "field extends: 'uw-other' is not another spec"),
    ({"colour": "blue"}, "field colour: Extra inputs are not permitted"),
    ({"parts": [{"id": "x", "title": "x", "file": "A2S9.py", "checks": []}]}, "'A2S9.py' is not one of files"),
])
def test_a_bad_offering_names_the_file_and_the_field(tmp_path, fields, message):
    path = variant(tmp_path, **fields)
    with pytest.raises(spec.SpecError) as e:
        spec.load(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value)


def test_every_spec_says_which_handout_it_follows():
    assert [a for a, s in spec.available().items() if not s.handout.strip()] == []


def test_options_have_the_types_their_checks_declare():
    """A check package's OPTIONS ({name: (type, the checks that read it)}) is what its specs may set: an option it
    does not read, or one of another type (padding_mask_asked: "no"), is a spec error, not a silent default."""
    for assignment in spec.available().values():
        declared = getattr(importlib.import_module(assignment.checks), "OPTIONS", None)
        if declared is None:
            continue
        assert set(assignment.options) <= set(declared), f"{assignment.id}: options its checks do not read"
        wrong = {k: v for k, v in assignment.options.items() if type(v) is not declared[k].type}
        assert wrong == {}, f"{assignment.id}: options of the wrong type"
        named = {c.name for p in assignment.parts for c in p.checks}
        assert {c for o in declared.values() for c in o.checks} <= named, f"{assignment.id}: readers not checks"


def test_a_part_whose_title_a_report_cannot_read_back_is_refused():
    check = spec.Check(name="test_x", title="f(): returns 1", points=1)
    with pytest.raises(ValueError, match="a report would read its title as 'lone part: f\\(\\)'"):
        spec.Part(id="lone", title="lone part", file="A2S2.py", checks=[check])
    other = spec.Check(name="test_y", title="g returns 2", points=1)
    assert spec.Part(id="two", title="two", file="A2S2.py", checks=[check, other]).title == "two"
