"""Calibration of the CS224N birthplace job's smoke profile: the reference must pass, known failures must not.

Runs graders_packs/cs224n/jobs/birthplace.py (train_job, then evaluate_job) in this process (no sandbox),
the student's modules being reference files or sample submissions loaded as `dataset` and `attention`, on one
thread, and scores the predictions here against the encyclopedia's dev answers. Prints one row per (variant, seed): dev
accuracy, pass/fail against the threshold, the wall seconds of each phase, the job's wall and CPU seconds
(CPU time is what one idle core would take; wall time grows when other work shares the core), and how far
the probe logits at earlier positions move when a later token changes (0 for a causal model).

Usage: nice -n 19 python benchmarks/birthplace_smoke.py [--seeds 1 2 3] [--variants reference no-pretrain ...]
       [--hp '{"pretrain_iters": 400}']
"""
import argparse
import contextlib
import importlib.util
import io
import json
import sys
import time
from pathlib import Path

import torch
import yaml

from graders import packs
from graders_packs.cs224n import birthplace

ROOT = Path(__file__).resolve().parent.parent
A4 = packs.samples("cs224n-a4-2024")
REF = ROOT / "graders_packs" / "cs224n" / "reference"
REF_DATASET, REF_ATTENTION = REF / "dataset.py", REF / "attention.py"
# Vanilla CausalSelfAttention without its mask: the leak a student makes by dropping one line.
NO_MASK = ("        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, -1e10)\n", "")


def load(name, path, edit=None):
    """A module from a file, registered as `name` and `submission.name` as the sandbox child does."""
    text = path.read_text()
    if edit:
        assert edit[0] in text, f"{path}: cannot apply the edit"
        text = text.replace(edit[0], edit[1], 1)
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    exec(compile(text, str(path), "exec"), module.__dict__)
    sys.modules[name] = sys.modules[f"submission.{name}"] = module
    return module


def by_path(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


job = birthplace.JOB.load_here("birthplace_job")  # the job's modules, as the sandbox child loads them
encyclopedia = by_path("encyclopedia", ROOT / "graders_packs" / "cs224n" / "encyclopedia.py")
SPEC = yaml.safe_load((packs.spec_path("cs224n-a4-2024")).read_text())
THRESHOLD = SPEC["jobs"]["birthplace"]["profiles"]["smoke"]["threshold"]  # the spec's, which grading uses

# name: (dataset file, attention file and optional source edit, hp overrides, must pass the threshold)
A4_REF = (A4 / "reference" / "attention.py", None)
VARIANTS = {
    "reference": (REF_DATASET, (REF_ATTENTION, None), {}, True),
    "reference-2024": (A4 / "reference" / "dataset.py", A4_REF, {}, True),
    "reference-rope": (A4 / "reference" / "dataset.py", A4_REF, {"rope": True}, True),
    "no-pretrain": (REF_DATASET, (REF_ATTENTION, None), {"pretrain_iters": 0}, False),
    # Without pretraining the smoke finetune is too short to learn the format; 300 steps learn it (the
    # finetune people reach 100%), so this shows the dev people stay at chance for want of knowledge.
    "no-pretrain-long": (REF_DATASET, (REF_ATTENTION, None), {"pretrain_iters": 0, "finetune_iters": 300}, False),
    "leak-no-mask": (REF_DATASET, (REF_ATTENTION, NO_MASK), {}, False),
    "leak-sdpa-rope": (A4 / "reference" / "dataset.py", (A4 / "attn-bug-sdpa-not-causal" / "attention.py", None),
                       {"rope": True}, False),
    "bug-no-shift": (A4 / "bug-no-shift" / "dataset.py", (REF_ATTENTION, None), {}, False),
}
for bug in ("bug-swapped", "bug-one-mask", "bug-ignores-idx", "bug-span-always-one", "bug-pad-char"):
    VARIANTS[bug] = (A4 / bug / "dataset.py", (REF_ATTENTION, None), {}, None)  # None: reported, not required
DEFAULT = ["reference", "reference-2024", "reference-rope", "no-pretrain", "no-pretrain-long", "leak-no-mask",
           "leak-sdpa-rope", "bug-no-shift"]


def probes(corpus, question):
    """Pairs of sequences that differ in one later token, in the handouts' vocabulary (PAD, MASK, sorted
    characters); the job returns the vocabulary it used, checked against this one."""
    chars = [job.PAD_CHAR, job.MASK_CHAR] + sorted(set(corpus))
    stoi = {c: i for i, c in enumerate(chars)}
    base = [stoi[c] for c in question + job.MASK_CHAR + "Lima"]
    pairs = []
    for at in (len(question), len(base) - 1):
        other = list(base)
        other[at] = (other[at] + 7) % len(chars)
        pairs += [base, other]
    return stoi, pairs, [len(question), len(base) - 1]


def leak(logits, changed_at):
    """Largest change of the logits before the changed position, over the probe pairs and both modes."""
    worst = 0.0
    for a, b in logits.values():
        for k, at in enumerate(changed_at):
            worst = max(worst, (a[k, :at] - b[k, :at]).abs().max().item())
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--variants", nargs="+", default=DEFAULT, choices=sorted(VARIANTS))
    parser.add_argument("--hp", default="{}", help="JSON overrides of the job's SMOKE hyper-parameters")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = json.loads(args.hp)
    print(f"hp: {json.dumps({**job.SMOKE, **overrides})}; threshold {args.threshold:.0%}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread")
    for seed in args.seeds:
        b = encyclopedia.baselines(encyclopedia.generate(seed))
        print(f"encyclopedia seed {seed}: " + ", ".join(f"{k} {v:.1%}" for k, v in b.items()))
    print(f"{'variant':<17} {'seed':>4} {'dev acc':>7} {'verdict':>7} {'pretrain':>8} {'finetune':>8} {'predict':>7} "
          f"{'wall':>6} {'cpu':>6} {'probe leak':>10}")
    failures = []
    for name in args.variants:
        dataset_file, (attention_file, edit), hp, must_pass = VARIANTS[name]
        for seed in args.seeds:
            book = encyclopedia.generate(seed)
            questions = [q for q, _ in book.dev]
            stoi, pairs, changed_at = probes(book.corpus, questions[0])
            load("dataset", dataset_file)
            load("attention", attention_file, edit)
            wall, cpu = time.perf_counter(), time.process_time()
            with contextlib.redirect_stdout(io.StringIO()):  # the handouts' datasets print their sizes
                hp = {**overrides, **hp, "seed": seed}
                trained = job.train_job("dataset", "attention", book.corpus, book.train_tsv, hp)
                out = job.evaluate_job("dataset", "attention", trained["weights"], trained["model"], questions, pairs,
                                       hp)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert trained["model"]["stoi"] == stoi, "the job's vocabulary differs from the handouts' convention"
            out["seconds"].update(trained["seconds"])
            acc = encyclopedia.accuracy(out["predictions"], book.dev)
            passed = acc >= args.threshold
            s = out["seconds"]
            print(f"{name:<17} {seed:>4} {acc:>7.1%} {'pass' if passed else 'FAIL':>7} {s['pretrain']:>7.1f}s "
                  f"{s['finetune']:>7.1f}s {s['predict']:>6.1f}s {wall:>5.1f}s {cpu:>5.1f}s "
                  f"{leak(out['probe_logits'], changed_at):>10.2g}", flush=True)
            if must_pass is not None and passed != must_pass:
                failures.append(f"{name} seed {seed}")
    print("calibration holds" if not failures else f"calibration broken: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
