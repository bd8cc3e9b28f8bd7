"""The same submission graded many times gets the same results.json, apart from timing.

GRADERS_REPEATS sets how many times (default 3 here; the acceptance run used 100).
"""
import json
import os
import subprocess
import sys

import pytest

from graders import packs
from graders.grade import grade
from graders.results import gradescope

SAMPLES = packs.samples("uw-cse447-a2")
REPEATS = int(os.environ.get("GRADERS_REPEATS", "3"))


@pytest.mark.parametrize("sample", ["reference", "bug-scale-sqrt-embd", "bug-syntax-error"])
def test_grading_repeatedly_gives_identical_results(sample):
    first = None
    for _ in range(REPEATS):
        result = gradescope(grade(SAMPLES / sample, "uw-cse447-a2"))
        result.pop("execution_time")
        first = first or result
        assert result == first


def test_checks_imported_before_grading_keep_the_graders_settings():
    """@given binds hypothesis's settings when its module is imported: a process that imported the checks
    before grading (a test run, a tool) must still grade with the derandomized profile, not the defaults."""
    code = ("import json, sys, importlib; importlib.import_module('graders_packs.uw_cse447_a2.test_a2s2'); "
            "from graders.grade import grade; from graders.results import gradescope; "
            "r = gradescope(grade(sys.argv[1], 'uw-cse447-a2')); r.pop('execution_time'); print(json.dumps(r))")
    run = subprocess.run([sys.executable, "-c", code, str(SAMPLES / "bug-scale-sqrt-embd")], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = gradescope(grade(SAMPLES / "bug-scale-sqrt-embd", "uw-cse447-a2"))
    expected.pop("execution_time")
    assert json.loads(run.stdout) == json.loads(json.dumps(expected))
