"""The same submission graded many times gets the same results.json, apart from timing.

GRADERS_REPEATS sets how many times (default 3 here; the acceptance run used 100).
"""
import os
from pathlib import Path

import pytest

from graders.grade import grade
from graders.results import gradescope

SAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "uw-cse447-a2"
REPEATS = int(os.environ.get("GRADERS_REPEATS", "3"))


@pytest.mark.parametrize("sample", ["reference", "bug-scale-sqrt-embd", "bug-syntax-error"])
def test_grading_repeatedly_gives_identical_results(sample):
    first = None
    for _ in range(REPEATS):
        result = gradescope(grade(SAMPLES / sample, "uw-cse447-a2"))
        result.pop("execution_time")
        first = first or result
        assert result == first
