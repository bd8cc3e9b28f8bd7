"""Written answers against a key (graders/checks/written.py): formulas by value, vectors within a tolerance, choice
sets, and answers files that are malformed, huge or of the wrong types; all in the grader, no sandbox."""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from graders import spec as specs
from graders.checks.written import Formula, FormulaError, Key, KeyItem, grade, judge, read_answers
from graders.problems import CheckFailed, InterfaceError, NotGradable
from graders.submission import SourceFile

PARAMS = KeyItem(question="params", formula="2d+2", variables=["d"])


@pytest.mark.parametrize("answer", ["2d+2", "2*d + 2", "2(d+1)", "d*2+2", "2 * (1 + d)", "d + d + 2", "2·d + 2",
                                    "(4d + 4) / 2", "2*d**1 + 2", "2d^1+2"])
def test_equivalent_formulas_pass(answer):
    judge(PARAMS, answer, show=False)


@pytest.mark.parametrize("key,variables,answer", [
    ("130d+2", ["d"], "2 + 130*d"), ("2dn", ["d", "n"], "2*n*d"), ("2d+2+ld", ["d", "l"], "2(d+1) + d*l"),
    ("2dr", ["d", "r"], "r d 2"), ("d^2/4", ["d"], "(d/2)**2")])
def test_formulas_of_several_variables_and_implicit_products(key, variables, answer):
    judge(KeyItem(**{"question": "q", "formula": key, "variables": variables}), answer, show=False)


@pytest.mark.parametrize("answer", ["2d", "2d+3", "d^2+2", "2(d-1)"])
def test_a_different_formula_fails_with_a_point_where_they_differ(answer):
    with pytest.raises(CheckFailed, match="is not the expected formula: at d=") as e:
        judge(PARAMS, answer, show=False)
    assert "2d+2" not in str(e.value)  # the key stays hidden while the check is visible
    with pytest.raises(CheckFailed, match=r"expected 2d\+2"):
        judge(PARAMS, answer, show=True)


@pytest.mark.parametrize("answer,message", [
    ("__import__('os').system('x')", "unknown name '__import__'"), ("2*x + 2", "unknown name 'x'"),
    ("d.real", "unexpected '.'"), ("[d]", "unexpected '\\['"), ("2d+", "is not a formula"), ("2 % d", "unexpected '%'"),
    ("d ** d ** d ** d", "cannot be evaluated"), ("(-d) ** 0.5", "no finite real value"),
    ("1/(d-d)", "cannot be evaluated"),
    ("d" * 300, "1 to 200 characters"), ("", "1 to 200 characters"), ("(" * 150 + "d" + ")" * 49, "is not a formula")])
def test_formulas_outside_the_grammar_are_interface_errors(answer, message):
    with pytest.raises(InterfaceError, match=message):
        judge(PARAMS, answer, show=False)


def test_formulas_are_never_evaluated_as_python():
    with pytest.raises(FormulaError):
        Formula.parse("(lambda: 1)()", ("d",))
    assert Formula.parse("2d+2", ("d",)).value({"d": 3.0}) == 8.0
    with pytest.raises(FormulaError, match="cannot be evaluated"):
        Formula.parse("10^16^16", ()).value({})


def test_vectors_and_numbers_within_tolerance():
    item = KeyItem(question="argmax", vector=[3, 2, -4], tol=0.01)
    judge(item, [3, 2.005, "-4"], show=False)
    judge(item, ["6/2", 2, -4.0], show=False)
    with pytest.raises(CheckFailed, match=r"entry 2 \(4\) is off by more than 0.01") as e:
        judge(item, [3, 2, 4], show=False)
    assert "-4" not in str(e.value)
    with pytest.raises(CheckFailed, match="2 numbers, expected 3"):
        judge(item, [3, 2], show=False)
    with pytest.raises(InterfaceError, match="expected a list of numbers"):
        judge(item, {"a": 1}, show=False)
    with pytest.raises(InterfaceError, match="a bool"):
        judge(item, [True, 2, -4], show=False)
    judge(KeyItem(**{"question": "p", "number": 0.25, "tol": 1e-9}), "1/4", show=False)
    with pytest.raises(CheckFailed, match="expected 0.25"):
        judge(KeyItem(**{"question": "p", "number": 0.25}), 0.3, show=True)


def test_choices_are_a_set():
    item = KeyItem(question="rows", choices=["v0", "v1"])
    for answer in (["v1", "v0"], "V0, v1", ["v0", "v1", "v0"]):
        judge(item, answer, show=False)
    with pytest.raises(CheckFailed, match="1 of your 2 choices are right and 1 is missing"):
        judge(item, ["v0", "v3"], show=False)
    with pytest.raises(InterfaceError, match="expected a list of choices"):
        judge(item, [["v0"]], show=False)


def test_key_items_need_a_question_and_one_kind():
    with pytest.raises(ValueError, match="exactly one of"):
        Key({"test_x": {"question": "q", "number": 1, "vector": [1]}})
    with pytest.raises((FormulaError, ValueError)):
        Key({"test_x": {"question": "q", "formula": "2x", "variables": ["d"]}})


def compute_now(key, compute, per_child=True):
    """The stand-ins' Submission.memo: nothing kept."""
    return compute()


def submission_with(tmp_path, name, data, check="test_written_params", visibility="visible"):
    """A stand-in for the `submission` fixture: an answers file found by intake and one written check."""
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    part = SimpleNamespace(checks=[SimpleNamespace(name=check, visibility=specs.Visibility(visibility))])
    return SimpleNamespace(source={"answers.yaml": SourceFile("answers.yaml", path)}.get, memo=compute_now,
                           spec=SimpleNamespace(parts=[part]), check=check)


KEY = Key({"test_written_params": PARAMS.model_dump()})


def test_grade_reads_yaml_and_json(tmp_path):
    grade(submission_with(tmp_path, "answers.yaml", "params: 2(d+1)\nother: [1, 2]\n"), KEY)
    grade(submission_with(tmp_path, "answers.json", json.dumps({"params": "d*2+2"})), KEY)
    with pytest.raises(InterfaceError, match="has no answer to 'params' .it answers: other"):
        grade(submission_with(tmp_path, "answers.yaml", "other: 1\n"), KEY)


def test_the_key_is_shown_only_when_the_check_is_not_visible(tmp_path):
    with pytest.raises(CheckFailed) as e:
        grade(submission_with(tmp_path, "answers.yaml", "params: 2d\n"), KEY)
    assert "2d+2" not in str(e.value)
    with pytest.raises(CheckFailed, match=r"expected 2d\+2"):
        grade(submission_with(tmp_path, "answers.yaml", "params: 2d\n", visibility="after_due_date"), KEY)


@pytest.mark.parametrize("data,message", [
    ("params: [2d+2\n", "could not be read"),
    ("- params\n- 2d+2\n", "must map each question to its answer"),
    ("a: &x [1, 1, 1]\nb: [*x, *x, *x]\n", "aliases"),
    (b"params: \xff\xfe 2d\n", "not UTF-8"),
    ("params: " + "[" * 5000 + "]" * 5000 + "\n", "could not be read"),
    ("x" * (70 << 10), "more than the 65536"),
    ("params: !!python/object/apply:os.system ['true']\n", "could not be read"),
])
def test_malformed_answers_files_say_why(tmp_path, data, message):
    with pytest.raises(NotGradable, match=message):
        read_answers(submission_with(tmp_path, "answers.yaml", data), "answers.yaml")


def test_a_missing_answers_file_costs_only_the_written_checks(tmp_path):
    missing = SourceFile("answers.yaml", problem="answers.yaml was not found in the submission; files found: A2S2.py")
    stand_in = SimpleNamespace(source={"answers.yaml": missing}.get, memo=compute_now)
    with pytest.raises(NotGradable, match="was not found in the submission"):
        read_answers(stand_in, "answers.yaml")


def test_the_uw_key_is_grader_side_and_complete():
    """Every written check of the spec has a key item, and the key file is no module the kit could ship."""
    from graders_packs.uw_cse447_a2 import written

    spec = specs.get("uw-cse447-a2")
    checks = [c.name for p in spec.parts if p.file == "answers.yaml" for c in p.checks]
    assert checks and sorted(checks) == sorted(written.KEY.items) == sorted(written.__all__)
    assert written.KIT == "withheld" and Path(written.__file__).with_name("written_key.yaml").exists()
