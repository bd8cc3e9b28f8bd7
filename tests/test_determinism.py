"""The same submission graded twice gets the same results.json, apart from timing."""
from pathlib import Path

from graders.grade import grade
from graders.results import gradescope

SAMPLES = Path(__file__).resolve().parents[1] / "submissions" / "uw-cse447-a2"


def test_grading_twice_gives_identical_results():
    for sample in ("reference", "bug-scale-sqrt-embd"):
        first, second = (gradescope(grade(SAMPLES / sample, "uw-cse447-a2")) for _ in range(2))
        first.pop("execution_time"), second.pop("execution_time")
        assert first == second
