"""Span-corruption checks over many grader seeds: correct samples must never lose a point, bug samples
should be caught under every seed.

Usage: python benchmarks/span_seeds.py [--seeds N] SAMPLE_FOLDER...
Each folder's assignment is the name of its parent (<pack>/samples/<assignment>/<sample>). One sandbox per
sample serves all seeds; GRADERS_SEED's role is played by setting span.SEED before each round.
"""
import argparse
import shutil
import time
from collections import Counter
from pathlib import Path

from graders import spec as specs
from graders.grade import prepared
from graders.problems import CheckFailed, SubmissionProblem
from graders.spec import Limits
from graders.submission import scratch_dir
from graders_packs.cs224n import span

CHECKS = [getattr(span, name) for name in span.__all__ if name.startswith("test_")]


def run(folder, seeds):
    assignment = specs.get(folder.parent.name)
    assignment = assignment.model_copy(update={"limits": Limits(call_seconds=60, submission_seconds=1e9)})
    layout = span.Layout.of(assignment)
    lost, scratch = Counter(), scratch_dir()
    try:
        with prepared(folder, assignment, scratch) as (submission, _):
            module = submission.module("dataset.py")
            for seed in seeds:
                span.SEED = seed
                for check in CHECKS:
                    submission.session.begin_check()
                    try:
                        check(module, layout) if check is span.test_span_format else check(module)
                    except (CheckFailed, SubmissionProblem):
                        lost[check.__name__] += 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return lost


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--first", type=int, default=1, help="first seed (0 is the seed grading uses)")
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
    print(f"{'sample':50s} {'seeds':>5s} {'time':>7s}  failed checks (seeds failing each)")
    for folder in args.folders:
        started = time.monotonic()
        lost = run(folder.resolve(), seeds)
        shown = ", ".join(f"{name.removeprefix('test_span_')}: {n}" for name, n in sorted(lost.items())) or "none"
        name = f"{folder.parent.name}/{folder.name}"
        print(f"{name:50s} {len(seeds):5d} {time.monotonic() - started:6.0f}s  {shown}", flush=True)


if __name__ == "__main__":
    main()
