"""Wall time of grading one submission from a cold start, next to `python -c "import torch"`.

Usage: python benchmarks/cold_grade.py [--runs N] [--assignment ID] [SUBMISSION]
Each figure is the median of N runs of a fresh process; the acceptance target is a ratio of at most 2.5.
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graders import packs

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("submission", nargs="?", help="default: the assignment's reference sample")
    parser.add_argument("--assignment", default="uw-cse447-a2")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    submission = args.submission or packs.samples(args.assignment) / "reference"
    with tempfile.TemporaryDirectory() as out:
        grade = [sys.executable, "-m", "graders", "grade", str(submission), "--assignment", args.assignment,
                 "--out", out]
        torch_import = [sys.executable, "-c", "import torch"]
        wall(torch_import)  # warm the page cache once, as on any machine that graded before
        t_torch = statistics.median(wall(torch_import) for _ in range(args.runs))
        t_grade = statistics.median(wall(grade) for _ in range(args.runs))
    print(f"python -c 'import torch': {t_torch:.2f} s (median of {args.runs})")
    print(f"graders grade (cold):     {t_grade:.2f} s (median of {args.runs})")
    print(f"ratio:                    {t_grade / t_torch:.2f} (target <= 2.5)")


if __name__ == "__main__":
    main()
