"""Batch grading speed: `graders batch` over a generated class next to one cold `graders grade` per student.

The class is made from the bundled samples (correct, buggy, broken), each copy marked with its student's
number so no two files are identical; by default each hands in A2S2.py alone (the reference, which also answers
the other sections, hands in its A2S2.py). Usage: python benchmarks/batch_grade.py --students 100 [--cold N]
"""
import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from graders import packs
from graders import spec as specs

ROOT = Path(__file__).resolve().parents[1]


def make_class(assignment, section, n, folder):
    """n students, round robin over the samples that implement `section` (one of the spec's files, all of
    them when None), each handing in only that section's file."""
    files = [section] if section else [f.name for f in specs.get(assignment).files]
    stems = {Path(name).stem for name in files}
    samples = [p for p in sorted(packs.samples(assignment).iterdir()) if (p / "expected.yaml").exists()
               and set(yaml.safe_load((p / "expected.yaml").read_text()).get("implements") or files) & set(files)]
    for i, sample in zip(range(n), itertools.cycle(samples)):
        target = folder / f"student-{i:03d}"
        shutil.copytree(sample, target, ignore=lambda d, names, top=sample: [m for m in names if Path(d) == top and
                                                                             Path(m).stem not in stems])
        for py in target.rglob("*.py"):
            py.write_text(py.read_text() + f"\n# student {i}\n")
    return sorted(folder.iterdir())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="uw-cse447-a2")
    parser.add_argument("--section", default="A2S2.py", help="the spec file each student hands in ('' for all)")
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--cold", type=int, default=None, help="grade only this many cold (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        roster = make_class(args.assignment, args.section, args.students, tmp / "class")
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
