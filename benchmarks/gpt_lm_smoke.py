"""Calibration of the hw5 GPT perplexity job's smoke profile: the reference passes with margin, no training and a
leaking attention fail.

Runs the job's source (graders_packs/jhu_cs601_hw5/lm.py's JOB) in this process (no sandbox) on one thread,
the student's gpt/model.py being a sample submission, and scores it with the driver as grading does. Prints one
row per (variant, seed): the metric (unigram perplexity / the model's), the model's perplexity, pass/fail against
the spec's smoke threshold, the job's wall and CPU seconds and how far earlier probe logits move when later
tokens change (0 for a causal model).

Usage: nice -n 19 python benchmarks/gpt_lm_smoke.py [--seeds 1 2 3] [--variants reference no-training ...]
       [--hp '{"iters": 400}']
"""
import argparse
import json
import sys
import time
import types
from pathlib import Path

import torch
import yaml

from graders import packs, thresholds
from graders_packs.jhu_cs601_hw5 import lm as driver

ROOT = Path(__file__).resolve().parent.parent
HW5 = packs.samples("jhu-cs601-hw5")
SPEC = yaml.safe_load((packs.spec_path("jhu-cs601-hw5")).read_text())
THRESHOLD = SPEC["jobs"]["gpt_lm"]["profiles"]["smoke"]["threshold"]
# name: (sample, hp overrides, must pass the threshold)
VARIANTS = {
    "reference": ("reference", {}, True),
    "correct-sdpa": ("correct-sdpa-is-causal", {}, True),
    "correct-loop-heads": ("correct-loop-heads", {}, True),
    "no-training": ("reference", {"iters": 0}, False),
    "leak-mask-not-applied": ("bug-mask-not-applied", {}, False),
    "leak-softmax-dim": ("bug-softmax-wrong-dim", {}, False),
}


def module(name, path):
    """A module from source text, registered in sys.modules as the sandbox child registers the student's."""
    m = types.ModuleType(name)
    m.__file__ = str(path)
    sys.modules[name] = m
    exec(compile(path.read_text(), str(name), "exec"), m.__dict__)
    return m


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=sorted(VARIANTS))
    parser.add_argument("--hp", default="{}", help="JSON overrides of the job's LM_SMOKE hyper-parameters")
    args = parser.parse_args()
    torch.set_num_threads(1)
    job = driver.JOB.load_here("gpt_lm_job")
    overrides = json.loads(args.hp)
    print(f"hp: {json.dumps({**job.LM_SMOKE, **overrides})}; threshold {THRESHOLD}; torch {torch.__version__}")
    print(f"{'variant':<22} {'seed':>4} {'metric':>6} {'ppl':>6} {'unigram':>7} {'verdict':>7} {'wall':>6} {'cpu':>6} "
          f"{'probe leak':>10}")
    failures = []
    for name in args.variants:
        sample, hp, must_pass = VARIANTS[name]
        for seed in args.seeds:
            module("model", HW5 / sample / "gpt" / "model.py")
            kwargs, kept = driver.inputs("smoke", {}, seed=seed)
            wall, cpu = time.perf_counter(), time.process_time()
            out = thresholds.run_here(job, kwargs, {**overrides, **hp, "seed": seed})
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            ratio, _, bug, _ = driver.score(out, kept)
            leak = driver.lm.leak(out, kept["cuts"])
            passed = ratio >= THRESHOLD and bug is None
            print(f"{name:<22} {seed:>4} {ratio:>6.2f} {kept['unigram'] / ratio:>6.2f} {kept['unigram']:>7.2f} "
                  f"{'pass' if passed else 'FAIL':>7} {wall:>5.1f}s {cpu:>5.1f}s {leak[2] if leak else 0:>10.2g}",
                  flush=True)
            if passed != must_pass:
                failures.append(f"{name} seed {seed}")
    print("calibration holds" if not failures else f"calibration broken: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
