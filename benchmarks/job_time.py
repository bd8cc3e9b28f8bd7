"""Wall time of each smoke training job of an assignment on one sample, through `thresholds.evaluate` (the local
runner, both sandboxes), trained or untrained (the fixed cost: sandboxes, data, prediction). Run it with two trees
on PYTHONPATH in turn to compare them.

Usage: python benchmarks/job_time.py ASSIGNMENT SAMPLE [trained|untrained]
"""
import sys
import time
from pathlib import Path

from graders import runners, thresholds
from graders import spec as specs

UNTRAINED = {"birthplace": {"pretrain_iters": 0}, "gpt_lm": {"iters": 0}, "classifier": {"epochs": 0},
             "decoder": {"max_iters": 0}}


def main(spec_id, sample, mode="trained"):
    spec = specs.get(spec_id)
    for name, job in spec.jobs.items():
        smoke = job.profiles["smoke"]
        if mode == "untrained":
            smoke = smoke.model_copy(update={"hp": UNTRAINED[name]})
        profiles = {**job.profiles, "smoke": smoke}
        one = spec.model_copy(update={"jobs": {name: job.model_copy(update={"profiles": profiles})}})
        start = time.perf_counter()
        outcomes = thresholds.evaluate({"s": Path(sample)}, one, "smoke", runners.Options())["s"].outcomes
        verdicts = ", ".join(f"{check} {'passed' if o.passed else 'failed'}" for check, o in outcomes.items())
        print(f"{spec_id} {name} {mode}: {time.perf_counter() - start:.1f} s ({verdicts})", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
