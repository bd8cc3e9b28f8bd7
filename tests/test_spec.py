"""Specs load, agree with their check modules, and a bad spec is reported by file and field."""
import importlib
import re
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
    got = spec.load(variant(tmp_path, without_files=["A2S3.py"],
                            without_parts=["a2s1_averaging"], parts=[new_part], limits={"call_seconds": 20}))
    assert (got.id, got.handout) == ("uw-other", "a test's")
    assert "A2S3.py" not in {f.name for f in got.files} and not any(p.file == "A2S3.py" for p in got.parts)
    ids = [p.id for p in got.parts]
    assert "a2s1_averaging" not in ids and ids.index("a2s1_selection") == [p.id for p in a2_spec.parts].index(
        "a2s1_selection")  # replaced in its place
    assert got.source("A2S2.py") == a2_spec.source("A2S2.py")
    assert next(p for p in got.parts if p.id == "a2s1_selection").checks[0].points == 2
    assert got.limits.call_seconds == 20
    pa2_2024 = spec.get("ucsd-cse256-pa2-2024").options  # set over the base's: its own, and the base's
    assert pa2_2024["padding_mask_asked"] is False and pa2_2024["alibi_required"] is False
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


def test_options_are_the_ones_their_checks_declare():
    """A pack's Options model is what its specs may set: every option of every spec is declared (load validated it),
    and each declared option names checks its package defines."""
    defined = {}  # Options model -> the test functions of every checks package that declares it
    for assignment in spec.available().values():
        model = spec.options_model(assignment.checks)
        assert set(assignment.options) == set(model.model_fields), assignment.id  # defaults filled in
        package = importlib.import_module(assignment.checks)
        defined.setdefault(model, set()).update(n for m in [package, *map(importlib.import_module,
                                                                         checks_modules(package))] for n in vars(m))
    for model, names in defined.items():
        readers = {c for f in model.model_fields.values() for c in f.json_schema_extra["checks"]}
        assert readers <= names, f"{model.__module__}: options read by checks no package of it defines"


def test_unknown_options_and_wrong_types_are_spec_errors(tmp_path):
    """A typo (padding_mask_askd) or a wrong type (padding_mask_asked: "no") is an error naming the file and the
    option, never a silent default; an offering without declared options may set none."""
    data = yaml.safe_load(packs.spec_path("ucsd-cse256-pa2").read_text())
    for bad, words in (({"padding_mask_askd": False}, "options.padding_mask_askd: Extra inputs are not permitted"),
                       ({"padding_mask_asked": "no"}, "options.padding_mask_asked: Input should be a valid boolean")):
        path = tmp_path / "ucsd-cse256-pa2.yaml"
        path.write_text(yaml.safe_dump({**data, "options": {**data["options"], **bad}}))
        with pytest.raises(spec.SpecError, match=re.escape(words)):
            spec.load(path)
    path = tmp_path / "uw-cse447-a2.yaml"
    path.write_text(packs.spec_path("uw-cse447-a2").read_text() + "options:\n  anything: true\n")
    with pytest.raises(spec.SpecError, match="options.anything: Extra inputs are not permitted"):
        spec.load(path)


def checks_modules(package):
    """The test_*.py modules of a checks package, by name."""
    folder = Path(package.__file__).parent
    return [f"{package.__name__}.{p.stem}" for p in folder.glob("test_*.py")]


def test_a_part_whose_title_a_report_cannot_read_back_is_refused():
    check = spec.Check(name="test_x", title="f(): returns 1", points=1)
    with pytest.raises(ValueError, match="a report would read its title as 'lone part: f\\(\\)'"):
        spec.Part(id="lone", title="lone part", file="A2S2.py", checks=[check])
    other = spec.Check(name="test_y", title="g returns 2", points=1)
    assert spec.Part(id="two", title="two", file="A2S2.py", checks=[check, other]).title == "two"
