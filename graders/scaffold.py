"""`graders new ID`: a new pack that grades as generated, for course staff to change into their assignment.

The pack is a complete small assignment (a row softmax in solution.py): a spec, one check that compares with the
reference and names a known bug, the reference, and a sample class (the reference, a correct variant written
another way, and the bug) that passes `graders verify`. Every place to change says TODO; docs/authoring.md
explains each part.
"""
import keyword
import re
from pathlib import Path

SPEC = """\
# TODO: the assignment's spec (docs/authoring.md, "The spec"; `graders schema` prints every field).
id: {id}
title: "TODO: the assignment's title"
course: "TODO: the course"
handout: "TODO: the handout this spec follows (offering, term, starter code) and what it assumes where it is silent"
files:
  - name: solution.py
    module: solution
    functions: [softmax]
parts:
  - id: softmax
    title: "softmax"
    file: solution.py
    checks:
      - name: test_softmax_matches_reference
        title: "softmax over the last dimension matches the reference"
        points: 1
tolerances:
  float32: {{rtol: 1.0e-5, atol: 1.0e-6}}
  float64: {{rtol: 1.0e-10, atol: 1.0e-12}}
"""

INIT = '''"""TODO: one line on the assignment this pack grades (docs/authoring.md)."""
'''

README = """# {id}

TODO: for course staff: which handout each offering follows, what each check grades and why it carries its points,
and what the sample class shows. `graders verify {id}` checks the sample rules (docs/authoring.md).
"""

REFERENCE = '''"""The trusted reference: imported only by the grader's process, never by the sandbox or a kit."""
import torch


def softmax(x):
    """TODO: the reference solution of your assignment."""
    return torch.softmax(x, dim=-1)
'''

BUGS = '''"""Known bugs: what a solution with each bug returns, so a check can name the bug an output matches (TODO).

Each bug is the reference with one mistake, so this module would show the answer: the student kit replays what it
returns for the kit's inputs instead of shipping it (KIT = "recorded"; arguments and results must be plain data).
"""
import torch

KIT = "recorded"


def outputs(x):
    """{the bug, as the feedback names it: what a softmax with that bug returns for x}."""
    wrong_dim = "softmax over the wrong dimension (dim=0, down the columns): each row must sum to 1"
    return {wrong_dim: torch.softmax(x, dim=0)}
'''

CHECKS = '''"""Checks of solution.py (TODO: yours; docs/authoring.md, "Checks").

A check is a pytest test that takes the `submission` fixture; the student's module is a proxy whose calls run in
the sandbox and return plain data (tensors, numbers). Expected values come from the reference in this process.
"""
import pytest
import torch
from graders.checks.compare import close, require_tensor
from graders.checks.feedback import fail
from hypothesis import example, given
from hypothesis import strategies as st

from {module} import bugs, reference


@pytest.fixture
def solution(submission):
    return submission.module("solution.py")


@given(rows=st.integers(1, 4), cols=st.integers(1, 6), seed=st.integers(0, 2**16))
@example(rows=3, cols=5, seed=0)
def test_softmax_matches_reference(solution, submission, rows, cols, seed):
    x = torch.randn(rows, cols, generator=torch.Generator().manual_seed(seed))
    call = f"softmax(x) with x of shape {{tuple(x.shape)}}"
    case = f"x: {{rows}}x{{cols}} float32, seed {{seed}}"
    repro = f"softmax(torch.randn({{rows}}, {{cols}}, generator=torch.Generator().manual_seed({{seed}})))"
    got = require_tensor(solution.softmax(x), call)
    want, tol = reference.softmax(x), submission.tolerance("float32")
    if got.shape != want.shape:
        fail(f"{{call}} returned shape {{tuple(got.shape)}}, expected {{tuple(want.shape)}}", case, repro=repro)
    if not close(got, want, tol).all():
        bug = next((name for name, out in bugs.outputs(x).items() if close(got, out, tol).all()), None)
        fail(f"{{call}} differs from the reference", case, bug=bug, repro=repro)
'''

SOLUTIONS = {
    "reference": ("reference", "import torch\n\n\ndef softmax(x):\n    return torch.softmax(x, dim=-1)\n", {}),
    "correct-by-hand": ("correct", "import torch\n\n\ndef softmax(x):\n"
                        "    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)\n"
                        "    return e / e.sum(dim=-1, keepdim=True)\n", {}),
    "bug-wrong-dim": ("bug", "import torch\n\n\ndef softmax(x):\n    return torch.softmax(x, dim=0)\n",
                      {"test_softmax_matches_reference": "softmax over the wrong dimension"}),
}


def module_name(assignment_id):
    """The pack's folder and import name for an assignment id: gqa-2025 -> gqa_2025."""
    name = re.sub(r"\W", "_", assignment_id.lower())
    return f"pack_{name}" if name[:1].isdigit() or keyword.iskeyword(name) else name


def expected_yaml(kind, fail):
    lines = [f"kind: {kind}"] + (["fail:"] + [f"  {check}: {words!r}" for check, words in fail.items()] if fail else [])
    return "\n".join(lines) + "\n"


def create(assignment_id, course):
    """Write the pack for `assignment_id` into the course folder; returns its folder. Refuses to overwrite."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", assignment_id):
        raise ValueError(f"assignment id {assignment_id!r}: use lower-case letters, digits and dashes (cse599-gqa)")
    module = module_name(assignment_id)
    folder = Path(course) / module
    if folder.exists():
        raise ValueError(f"{folder} already exists")
    files = {"__init__.py": INIT, "README.md": README.format(id=assignment_id), "reference.py": REFERENCE,
             "bugs.py": BUGS, f"test_{module}.py": CHECKS.format(module=module),
             f"specs/{assignment_id}.yaml": SPEC.format(id=assignment_id)}
    for sample, (kind, code, fail) in SOLUTIONS.items():
        files[f"samples/{assignment_id}/{sample}/solution.py"] = code
        files[f"samples/{assignment_id}/{sample}/expected.yaml"] = expected_yaml(kind, fail)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder
