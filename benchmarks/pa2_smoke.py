"""Calibration of UCSD CSE 256 PA2's smoke thresholds: the reference and correct samples pass with margin; no
training fails both jobs, and a decoder that sees the future fails part 2 on the causality probe.

Runs each job's source (graders_packs/ucsd_cse256_pa2/part1.py's and part2.py's JOB) in this process (no
sandbox) on one thread, the student's transformer.py being a sample submission, and scores it with the driver as
grading does. Prints one row per (job, variant, seed): the metric (accuracy, or unigram perplexity / the
decoder's), pass/fail against the spec's smoke threshold, wall and CPU seconds.

Usage: nice -n 19 python benchmarks/pa2_smoke.py [--seeds 1 2 3] [--jobs classifier decoder] [--variants ...]
       [--profile full --data-dir ../shared/data/ucsd-cse256-pa2]   (the course's data and hyper-parameters)
"""
import argparse
import sys
import time
import types
from pathlib import Path

import torch
import yaml

from graders import packs, thresholds
from graders_packs.ucsd_cse256_pa2 import part1, part2

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = packs.samples("ucsd-cse256-pa2")
JOBS = yaml.safe_load((packs.spec_path("ucsd-cse256-pa2")).read_text())["jobs"]
DRIVERS = {"classifier": (part1, "epochs"), "decoder": (part2, "max_iters")}
# name: (sample, train at all, must pass both jobs; None: part 2 only fails)
VARIANTS = {
    "reference": ("reference", True, True),
    "correct-karpathy-heads": ("correct-karpathy-heads", True, True),
    "correct-fused-qkv-config": ("correct-fused-qkv-config", True, True),
    "correct-einsum-params": ("correct-einsum-params", True, True),
    "no-training": ("reference", False, False),
    "leaking-decoder": ("bug-leaking-decoder", True, None),
    "tril-discarded": ("bug-tril-discarded", True, None),
}


def module(name, source, path):
    """A module from source text, registered in sys.modules as the sandbox child registers the student's."""
    m = types.ModuleType(name)
    m.__file__ = str(path)
    sys.modules[name] = m
    exec(compile(source, str(path), "exec"), m.__dict__)
    return m


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", nargs="+", default=list(DRIVERS), choices=list(DRIVERS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--profile", default="smoke", choices=["smoke", "full"])
    parser.add_argument("--data-dir", help="the course's files, for --profile full")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}")
    print(f"{'job':<10} {'variant':<26} {'seed':>4} {'metric':>7} {'verdict':>7} {'wall':>6} {'cpu':>6}  note")
    failures = []
    for job_name in args.jobs:
        driver, steps = DRIVERS[job_name]
        profile = JOBS[job_name]["profiles"][args.profile]
        threshold, profile_hp = profile["threshold"], profile.get("hp", {})
        job = driver.JOB.load_here(f"pa2_{job_name}_job")
        for name in args.variants:
            sample, trained, must_pass = VARIANTS[name]
            must_pass = must_pass if must_pass is not None else job_name == "classifier"
            for seed in args.seeds:
                path = SAMPLES / sample / "transformer.py"
                module("transformer", path.read_text(), path)
                kwargs, kept = driver.inputs(args.profile, profile_hp, args.data_dir, seed=seed)
                hp = {**profile_hp, "seed": seed} if trained else {**profile_hp, "seed": seed, steps: 0}
                wall, cpu = time.perf_counter(), time.process_time()
                out = thresholds.run_here(job, kwargs, hp)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                value, lines, bug, _ = driver.score(out, kept)
                passed = value >= threshold and bug is None
                print(f"{job_name:<10} {name:<26} {seed:>4} {value:>7.3f} {'pass' if passed else 'FAIL':>7} "
                      f"{wall:>5.1f}s {cpu:>5.1f}s  {bug or lines[0]}", flush=True)
                if passed != must_pass:
                    failures.append(f"{job_name} {name} seed {seed}")
    print("calibration holds" if not failures else f"calibration broken: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
