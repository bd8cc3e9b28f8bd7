"""The PA2 part 2 threshold, grader side: text for the job, and the perplexity of what it returns.

The job (jobs/part2.py, in the sandbox next to the student's transformer.py) trains the student's decoder; a fresh
sandbox loads the weights and returns its next-token logits for held-out contexts of block_size tokens; the
grader keeps each context's next token, computes the perplexity (graders/checks/lm.py) per test set and over
all of them, and checks on the trained model's probe logits that no position depends on later tokens. The metric
is the unigram model's perplexity divided by the decoder's, as for JHU hw5's GPT.
"""
import random
from pathlib import Path

import torch

from graders.checks import lm
from graders.jobs import JobSource, Score
from graders_packs.ucsd_cse256_pa2 import mainpy, models, speeches

HERE = Path(__file__).parent
JOB = JobSource(lm.JOB_WEIGHTS, HERE / "models.py", HERE / "jobs" / "common.py", HERE / "jobs" / "part2.py")
submission_args = mainpy.job_args  # main.py's reading: the job builds the models as the checks did
THRESHOLD_FORMAT = "{:g}x the unigram model's perplexity"
CONTEXTS = 512  # per test set


def contexts(ids, n, length, rng):
    """`n` windows of `length` ids and the id after each (which only the grader keeps)."""
    if len(ids) <= length:
        raise ValueError(f"a test text has {len(ids)} tokens, fewer than a context of {length}")
    starts = [rng.randrange(len(ids) - length) for _ in range(n)]
    return [ids[s:s + length] for s in starts], [ids[s + length] for s in starts]


def inputs(profile, hp, data_dir=None, seed=1):
    """(the job's arguments: {"train": the training sandbox's, "evaluate": the prediction sandbox's, "hp"}, what only
    the grader keeps: the answers per test set, the probe cuts, the unigram baseline). `seed` is the grading's
    secret (thresholds.job_seed)."""
    train, tests, stoi = speeches.language_modeling(profile, data_dir, seed)
    length, rng = hp.get("block_size", models.HP["block_size"]), random.Random(seed)
    train_ids = speeches.encode(stoi, train)
    sets, questions, answers = {}, [], []
    for name, text in tests.items():
        q, a = contexts(speeches.encode(stoi, text), CONTEXTS, length, rng)
        sets[name] = (len(answers), len(answers) + len(a))
        questions += q
        answers += a
    probes, cuts = lm.probe_pairs(len(stoi), length, seed)
    common = {"model_module": "transformer", "vocab_size": len(stoi)}
    args = {"train": {**common, "train_ids": train_ids},
            "evaluate": {**common, "contexts": questions, "probes": probes}, "hp": hp}
    return args, {"answers": answers, "sets": sets, "cuts": cuts, "vocab_size": len(stoi),
                  "unigram": lm.unigram_perplexity(train_ids, answers, len(stoi))}


def rows(value, what):
    if type(value) is not torch.Tensor or not value.is_floating_point():
        raise ValueError(f"the job returned no {what} tensor")
    return value.double().tolist()


def score(result, kept):
    """(unigram perplexity / the decoder's, what to tell the student, the bug when one is evident, figures)."""
    answers = kept["answers"]
    logp = lm.log_probs(rows(result.get("logits"), "logits"), answers, kept["vocab_size"])
    ppl = lm.perplexity(logp)
    ratio = kept["unigram"] / ppl
    per_set = ", ".join(f"{name} {lm.perplexity(logp[a:b]):.1f}" for name, (a, b) in kept["sets"].items())
    lines = [f"test perplexity {ppl:.2f} on {len(answers)} next tokens ({per_set}), {ratio:.2f}x better than the "
             f"unigram model's {kept['unigram']:.2f}"] + lm.timings(result)
    bug, shown = lm.sees_the_future(result, kept["cuts"], who="decoder", subject="the decoder")
    return Score(ratio, lines + shown, bug, lm.curves_figure(result.get("curve") or {}))
