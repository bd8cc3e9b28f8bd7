"""What the handout rules cost a normal grade: the same submission graded cold with its spec's rules (the sandbox
records what each watched check's calls reach; the source is scanned) and with an offering of the spec that has
none, alternating, so a busy machine slows both alike.

Usage: python benchmarks/rules_overhead.py [--runs N] [--assignment ID] [SUBMISSION]
       python benchmarks/rules_overhead.py --calls N
The second form times the record alone, in one process: N calls of the A2S2 reference's self_attention through
the child's `call`, plain and inside `Watch.around` with A2's rule, alternating blocks; CPU time per call.
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

from graders import packs

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = {"uw-cse447-a2": "graders_packs/uw_cse447_a2/samples/uw-cse447-a2/reference/A2S2.py",
           "ucsd-cse256-pa2": "graders_packs/ucsd_cse256_pa2/samples/ucsd-cse256-pa2/reference"}


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


def per_call(calls, blocks=10):
    """(plain, watched) CPU seconds per call of self_attention as the sandbox child makes it."""
    import importlib.util

    import torch

    from graders import rules, spec
    from graders.sandbox import child

    source = ROOT / "graders_packs/uw_cse447_a2/samples/uw-cse447-a2/reference/A2S2.py"
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location("A2S2", source))
    module.__spec__.loader.exec_module(module)
    sys.modules["A2S2"] = module
    torch.set_num_threads(1)
    watch = child.Watch()
    watch.look_for(rules.watched(spec.get("uw-cse447-a2"), {"A2S2.py"}))
    q = torch.randn(2, 16, 8, dtype=torch.float64)
    request = {"target": "A2S2", "fn": "self_attention", "args": [q, q, q], "kwargs": {"n_heads": 2}, "seed": 0}
    times = {False: 0.0, True: 0.0}
    for _ in range(blocks):
        for watched in (False, True):
            start = time.process_time()
            for _ in range(calls // blocks):
                if watched:
                    watch.around(child.call, request, set(), {})
                else:
                    child.call(request, set(), {})
            times[watched] += time.process_time() - start
    return times[False] / calls, times[True] / calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, help="time the record alone over this many calls (see above)")
    parser.add_argument("submission", nargs="?", help="default: the assignment's reference (A2S2.py alone for A2)")
    parser.add_argument("--assignment", default="uw-cse447-a2")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.calls:
        plain, watched = per_call(args.calls)
        print(f"self_attention in the child: {1e6 * plain:.0f} us a call plain, {1e6 * watched:.0f} us watched "
              f"(+{1e6 * (watched - plain):.0f} us, {100 * (watched / plain - 1):+.1f}%; {args.calls} calls each)")
        return
    submission = args.submission or (ROOT / DEFAULT[args.assignment] if args.assignment in DEFAULT
                                       else packs.samples(args.assignment) / "reference")
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
