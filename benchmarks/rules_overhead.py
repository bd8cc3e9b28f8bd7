"""What the handout rules cost a normal grade: the same submission graded cold with its spec's rules (the sandbox
records what each watched check's calls reach; the source is scanned) and with an offering of the spec that has
none, alternating, so a busy machine slows both alike.

Usage: python benchmarks/rules_overhead.py [--runs N] [--assignment ID] [SUBMISSION]
Prints medians, with and without rules, of: the wall time of a fresh `graders grade` process; the grading time
results.json records (execution_time: intake to result, without Python's start); and the CPU time (user + system)
of the grader and its sandbox children, which a busy machine inflates least.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = {"uw-cse447-a2": "submissions/uw-cse447-a2/reference/A2S2.py",
           "ucsd-cse256-pa2": "submissions/ucsd-cse256-pa2/reference"}


def without_rules(specs, assignment):
    """A spec folder holding the assignment's spec and an offering of it with no rules, `<id>-norules`."""
    from graders import spec

    for path in spec.files(assignment):
        shutil.copy(path, specs)
    base = spec.get(assignment)
    variant = {"extends": assignment, "id": f"{assignment}-norules", "title": base.title, "handout": base.handout,
               "without_rules": [r.id for r in base.rules]}
    (Path(specs) / f"{assignment}-norules.yaml").write_text(yaml.safe_dump(variant, allow_unicode=True))


def grade(submission, assignment, specs):
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "graders", "grade", str(submission), "--assignment", assignment, "--out",
                        out, "--profile", "full"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "GRADERS_SPECS": specs})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return wall, json.loads((Path(out) / "results.json").read_text())["execution_time"], cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("submission", nargs="?", help="default: the assignment's reference (A2S2.py alone for A2)")
    parser.add_argument("--assignment", default="uw-cse447-a2")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    submission = args.submission or ROOT / DEFAULT.get(args.assignment, f"submissions/{args.assignment}/reference")
    with tempfile.TemporaryDirectory() as specs:
        without_rules(specs, args.assignment)
        times = {"rules": [], "none": []}
        grade(submission, args.assignment, specs)  # warm the page cache once, as on any machine that graded before
        for _ in range(args.runs):
            times["rules"].append(grade(submission, args.assignment, specs))
            times["none"].append(grade(submission, args.assignment + "-norules", specs))
    for i, what in enumerate(("wall", "execution_time", "cpu")):
        on, off = (statistics.median(t[i] for t in times[k]) for k in ("rules", "none"))
        print(f"{what:>15}: with rules {on:.2f} s, without {off:.2f} s, {100 * (on / off - 1):+.1f}% "
              f"(medians of {args.runs})")


if __name__ == "__main__":
    main()
