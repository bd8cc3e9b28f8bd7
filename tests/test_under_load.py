"""Grades depend on the student's code alone (issue 13): a few samples graded idle and again next to two busy
processes get identical grades, feedback included. benchmarks/under_load.py, which this runs, does the same for
every correct sample of every assignment (numbers in benchmarks/README.md)."""
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "under_load.py"
# The reference of the field report (A2S3 imports transformers while loading) and a bug
# sample whose failing feedback (shrunk input, diagnosis) must not change either.
SAMPLES = ["uw-cse447-a2/reference", "uw-cse447-a2/bug-mask-inverted"]


def test_grades_are_identical_idle_and_next_to_two_busy_processes():
    run = subprocess.run([sys.executable, str(BENCHMARK), "--hogs", "2", *(f"--sample={s}" for s in SAMPLES)],
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "every grade identical" in run.stdout and " 2/2" in run.stdout, run.stdout
