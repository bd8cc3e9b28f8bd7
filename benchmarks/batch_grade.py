"""Batch grading speed: `graders batch` over a generated class next to one cold `graders grade` per student.

The class is made from the bundled samples (correct, buggy, broken), each copy marked with its student's
number so no two files are identical. Usage: python benchmarks/batch_grade.py --students 100 [--cold N]
"""
import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_class(assignment, n, folder):
    samples = sorted(p for p in (ROOT / "submissions" / assignment).iterdir() if p.is_dir())
    for i, sample in zip(range(n), itertools.cycle(samples)):
        target = folder / f"student-{i:03d}"
        shutil.copytree(sample, target)
        for py in target.rglob("*.py"):
            py.write_text(py.read_text() + f"\n# student {i}\n")
    return sorted(folder.iterdir())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="uw-cse447-a2")
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--cold", type=int, default=None, help="grade only this many cold (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        roster = make_class(args.assignment, args.students, tmp / "class")
        command = [sys.executable, "-m", "graders", "batch", str(tmp / "class"), "--assignment", args.assignment,
                   "--out", str(tmp / "batch")] + (["--workers", str(args.workers)] if args.workers else [])
        started = time.monotonic()
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
        batch = time.monotonic() - started
        print(f"batch: {len(roster)} submissions in {batch:.1f} s, {batch / len(roster):.3f} s per submission")
        cold_roster = roster[:args.cold] if args.cold else roster
        started = time.monotonic()
        for student in cold_roster:
            subprocess.run([sys.executable, "-m", "graders", "grade", str(student), "--assignment", args.assignment,
                            "--out", str(tmp / "cold" / student.name)], check=True, stdout=subprocess.DEVNULL)
        cold = time.monotonic() - started
        print(f"cold:  {len(cold_roster)} submissions in {cold:.1f} s, {cold / len(cold_roster):.3f} s per submission "
              f"(one `graders grade` process each, one at a time)")
        print(f"speed-up: {cold / len(cold_roster) / (batch / len(roster)):.1f}x")


if __name__ == "__main__":
    main()
