"""The hw5 GPT perplexity threshold, grader side: the job's inputs, and the score of what it returns.

The job (jobs/gpt_lm.py, run in the sandbox next to the student's gpt/model.py) trains a GPT with the student's
CausalSelfAttention; a fresh sandbox loads the weights and returns next-token logits for held-out contexts whose
next tokens only the grader holds;
the grader computes the perplexity (graders/checks/lm.py) and checks causality on the trained model's
probe logits: a model whose attention sees the future fails whatever its perplexity.
"""
from pathlib import Path

from graders.checks import lm
from graders.jobs import JobSource, Score
from graders_packs.cs224n import birthplace

JOB = JobSource(birthplace.JOB, Path(__file__).with_name("jobs") / "gpt_lm.py")
THRESHOLD_FORMAT = "{:g}x the unigram model's perplexity"  # the metric is unigram perplexity / the model's
COURSE_FILES = ("train.txt", "val.txt")


def course_data(data_dir):
    """The course's text (`--data-dir` holding train.txt and val.txt, e.g. nanoGPT's shakespeare_char input
    split 90/10), read as characters."""
    missing = [f for f in COURSE_FILES if not (Path(data_dir) / f).is_file()]
    if missing:
        raise FileNotFoundError(f"--data-dir {data_dir} lacks {', '.join(missing)}")
    return tuple((Path(data_dir) / f).read_text(encoding="utf-8") for f in COURSE_FILES)


def inputs(profile, hp, data_dir=None, seed=1):
    """(the job's arguments: {"train": the training sandbox's, "evaluate": the prediction sandbox's, "hp"}, what only
    the grader keeps: the answers, the baseline, the cuts). `seed` is the grading's secret (thresholds.job_seed)."""
    train, heldout = lm.corpus(seed) if profile == "smoke" else course_data(data_dir)
    vocab = "".join(sorted(set(train)))
    length = hp.get("block_size", lm.SMOKE["context_length"])
    contexts, answers = lm.questions(heldout, vocab, lm.SMOKE["contexts"], length, seed)
    sequences, cuts = lm.probe_pairs(len(vocab), length, seed)
    stoi = {c: i for i, c in enumerate(vocab)}
    unigram = lm.unigram_perplexity([stoi[c] for c in train], answers, len(vocab))
    args = {"train": {"model_module": "model", "train_text": train, "vocab": vocab},
            "evaluate": {"model_module": "model", "vocab": vocab, "contexts": contexts, "probes": sequences}, "hp": hp}
    return args, {"answers": answers, "cuts": cuts, "vocab_size": len(vocab), "unigram": unigram}


def score(result, kept):
    """(unigram perplexity / the model's, what to tell the student, the bug when one is evident, figures)."""
    ppl = lm.perplexity(lm.log_probs(result.get("logits"), kept["answers"], kept["vocab_size"]))
    ratio = kept["unigram"] / ppl
    lines = [f"held-out perplexity {ppl:.2f} on {len(kept['answers'])} next characters, {ratio:.2f}x better than the "
             f"unigram model's {kept['unigram']:.2f}"] + lm.timings(result)
    bug, shown = lm.sees_the_future(result, kept["cuts"])
    return Score(ratio, lines + shown, bug, lm.curves_figure(result.get("curve") or {}))
