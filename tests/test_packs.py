"""A course's own pack, outside this repository, as course staff make one: `graders new`, filled in with a small
assignment, `graders verify`, graded with --course, its student kit and its Gradescope zip; and the ways a course
folder can clash with the built-in packs, each refused with a message that names it."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graders import expected

ID = "cse599-scores"
PACK = "cse599_scores"

REFERENCE = '''"""Scaled dot-product scores."""
import math


def scores(q, k):
    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
'''
BUGS = '''"""What known bugs return."""
KNOWN = {"scores not scaled by 1/sqrt(d)": lambda q, k: q @ k.transpose(-2, -1)}
'''
CHECKS = '''"""Checks of scores.py."""
import pytest

from graders import expected
import torch
from hypothesis import given
from hypothesis import strategies as st

from cse599_scores import bugs, reference
from graders.checks.compare import close, require_tensor
from graders.checks.feedback import fail


@pytest.fixture
def student(submission):
    return submission.module("scores.py")


@given(t=st.integers(1, 5), d=st.integers(2, 7), seed=st.integers(0, 999))
def test_scores_match(student, submission, t, d, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(t, d, generator=g), torch.randn(t, d, generator=g)
    got = require_tensor(student.scores(q, k), "scores(q, k)")
    tol = submission.tolerance("float32")
    if got.shape != (t, t) or not close(got, reference.scores(q, k), tol).all():
        bug = next((b for b, f in bugs.KNOWN.items() if got.shape == (t, t) and close(got, f(q, k), tol).all()), None)
        fail("scores(q, k) differs from the reference", f"q, k: {t}x{d}, seed {seed}", bug=bug)
'''
SPEC = f'''id: {ID}
title: "CSE 599 scores"
course: "CSE 599"
handout: "a made-up handout: scores(q, k) in scores.py"
files:
  - {{name: scores.py, module: scores, functions: [scores]}}
parts:
  - id: scores
    title: "scores"
    file: scores.py
    checks:
      - {{name: test_scores_match, title: "scores match q kᵀ / sqrt(d)", points: 2}}
tolerances:
  float32: {{rtol: 1.0e-5, atol: 1.0e-6}}
'''
SAMPLES = {
    "reference": ("import math\n\n\ndef scores(q, k):\n    return q @ k.T / math.sqrt(q.shape[-1])\n", "kind: reference\n"),
    "correct-einsum": ("import torch\n\n\ndef scores(q, k):\n    return torch.einsum('id,jd->ij', q, k) * q.shape[-1] ** -0.5\n",
                       "kind: correct\n"),
    "bug-unscaled": ("def scores(q, k):\n    return q @ k.T\n",
                     "kind: bug\nfail:\n  test_scores_match: 'not scaled by 1/sqrt(d)'\n"),
    # The course's pack is hidden from student code like the built-in ones.
    "bug-imports-reference": ("def scores(q, k):\n    from cse599_scores import reference\n    return reference.scores(q, k)\n",
                              "kind: bug\nfail:\n  test_scores_match: \"No module named 'cse599_scores'\"\n"),
}


def graders(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "graders", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """`graders new`, then the pack filled in with the scores assignment, as its author would."""
    course = tmp_path_factory.mktemp("course")
    made = graders("new", ID, "--course", course)
    assert made.returncode == 0, made.stderr
    assert f"graders verify {ID} --course {course}" in made.stdout
    pack = course / PACK
    shutil.rmtree(pack / "samples" / ID)
    (pack / "test_cse599_scores.py").write_text(CHECKS)
    (pack / "reference.py").write_text(REFERENCE)
    (pack / "bugs.py").write_text(BUGS)
    (pack / "specs" / f"{ID}.yaml").write_text(SPEC)
    for name, (code, expectation) in SAMPLES.items():
        (pack / "samples" / ID / name).mkdir(parents=True)
        (pack / "samples" / ID / name / "scores.py").write_text(code)
        (pack / "samples" / ID / name / "expected.yaml").write_text(expectation)
    return course


def test_a_new_pack_verifies_as_generated(tmp_path):
    course = tmp_path / "course"  # made by `new`
    made = graders("new", "cse599-example", "--course", course)
    assert made.returncode == 0, made.stderr
    run = graders("verify", "cse599-example", "--course", course, "--out", tmp_path / "verify")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3/3 samples graded as expected; every check can fail and pass" in run.stdout
    assert graders("new", "cse599-example", "--course", course).returncode == 2  # never overwritten
    # verify grades afresh into an --out that holds its last batch: a reference broken since then is caught
    (course / "cse599_example" / "samples" / "cse599-example" / "reference" / "solution.py").write_text(
        "def softmax(x):\n    return x\n")
    run = graders("verify", "cse599-example", "--course", course, "--out", tmp_path / "verify")
    assert run.returncode == 1 and "2/3 samples graded as expected" in run.stdout and "DISAGREE reference" in run.stdout


def test_the_filled_in_pack_verifies_and_grades_with_course(course, tmp_path):
    run = graders("verify", ID, "--course", course)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4/4 samples graded as expected" in run.stdout
    listed = graders("list", "--course", course)
    assert f"{ID}\tCSE 599 scores" in listed.stdout.splitlines() and "uw-cse447-a2\t" in listed.stdout
    env = {**os.environ, "GRADERS_COURSE": str(course)}  # the variable does what --course does
    graded = graders("grade", course / PACK / "samples" / ID / "bug-unscaled", "--assignment", ID, "--out", tmp_path,
                     env=env)
    assert graded.returncode == 0, graded.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == 0 and "Diagnosis: scores not scaled by 1/sqrt(d)" in results["tests"][0]["output"]


def test_verify_names_what_a_sample_class_lacks(course, tmp_path):
    """Without its bug samples the class cannot show that the check fails: verify says so and exits 1."""
    broken = shutil.copytree(course, tmp_path / "course")
    for name in ("bug-unscaled", "bug-imports-reference"):
        shutil.rmtree(broken / PACK / "samples" / ID / name)
    run = graders("verify", ID, "--course", broken)
    assert run.returncode == 1
    assert "no bug sample fails test_scores_match" in run.stdout and "0 bug samples" in run.stdout


def test_the_packs_kit_and_gradescope_zip_grade_like_the_grader(course, tmp_path):
    env = {**os.environ, "GRADERS_COURSE": str(course)}
    assert graders("package", "--assignment", ID, "--student", tmp_path / "kit.zip", env=env).returncode == 0
    with zipfile.ZipFile(tmp_path / "kit.zip") as archive:
        archive.extractall(tmp_path / "kit")
        names = archive.namelist()
    kit = tmp_path / "kit" / f"{ID}-self-check"
    assert "sqrt" not in (kit / "course" / PACK / "reference.py").read_text(), "the kit holds the reference's code"
    assert not [n for n in names if "graders_packs" in n or "/samples/" in n]
    plain = {k: v for k, v in os.environ.items() if k != "GRADERS_COURSE"}
    checked = subprocess.run([sys.executable, kit / "selfcheck.py", course / PACK / "samples" / ID / "bug-unscaled"],
                             capture_output=True, text=True, cwd=tmp_path, env=plain, timeout=300)
    assert "Diagnosis: scores not scaled by 1/sqrt(d)" in checked.stdout and "Score: 0/2" in checked.stdout, checked
    assert graders("package", "--assignment", ID, "--gradescope", tmp_path / "gs.zip", env=env).returncode == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "gs.zip") as archive:
        archive.extractall(root / "source")
    shutil.copytree(course / PACK / "samples" / ID / "correct-einsum", root / "submission")
    done = subprocess.run(["bash", root / "source" / "run_autograder"], capture_output=True, text=True, timeout=300,
                          env={**plain, "AUTOGRADER_ROOT": str(root), "GRADERS_UNISOLATED": "1",
                               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])})
    assert done.returncode == 0, done.stderr
    assert json.loads((root / "results" / "results.json").read_text())["score"] == 2


@pytest.mark.parametrize("clash,message", [
    ("id", "assignment 'uw-cse447-a2' is defined twice"),
    ("module", "its folder name 'yaml' is already a Python module"),
])
def test_a_course_that_clashes_with_the_built_in_packs_is_refused(tmp_path, clash, message):
    folder = tmp_path / ("yaml" if clash == "module" else "mine")
    (folder / "specs").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "specs" / ("uw-cse447-a2.yaml" if clash == "id" else "mine.yaml")).write_text(SPEC)
    run = graders("list", "--course", tmp_path)
    assert run.returncode == 2 and message in run.stderr


def test_an_expected_yaml_with_an_unknown_key_is_an_error_naming_it(tmp_path):
    """`fails:` for `fail:` would otherwise make a bug sample expect nothing and pass as anything."""
    (tmp_path / "expected.yaml").write_text("kind: bug\nfails:\n  test_x: words\n")
    with pytest.raises(ValueError, match=r"expected.yaml: fails: Extra inputs are not permitted"):
        expected.Expected.read(tmp_path)
    (tmp_path / "expected.yaml").write_text("kind: exploit\n")  # another catalogue's: not a sample class's
    assert expected.Expected.read(tmp_path) is None
