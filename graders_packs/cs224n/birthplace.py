"""The CS224N birthplace threshold, grader side: the job's inputs, and the score of what it returns.

The job (jobs/birthplace.py, run in the sandbox next to the student's code) pretrains the vanilla model with
the student's span corruption and attention and finetunes it on name -> place questions; a fresh sandbox loads
the trained weights and predicts places for held-out people. It gets the dev questions, never their answers;
the grader scores the predictions itself and checks, on logits the trained model gives for pairs of probe
sequences that differ only from a position on, that no earlier position moved: a model whose attention sees
the future fails whatever its accuracy.
"""
import random
from pathlib import Path

from graders.checks import lm
from graders.jobs import JobSource, Score
from graders_packs.cs224n import encyclopedia

JOB = JobSource(lm.JOB_WEIGHTS, Path(__file__).with_name("jobs") / "birthplace.py")
PROBE_PAIRS = 4
COURSE_FILES = ("wiki.txt", "birth_places_train.tsv", "birth_dev.tsv")


def course_data(data_dir):
    """The course's files (`--data-dir`, laid out as ../shared/data/cs224n-birthplaces)."""
    missing = [f for f in COURSE_FILES if not (Path(data_dir) / f).is_file()]
    if missing:
        raise FileNotFoundError(f"--data-dir {data_dir} lacks {', '.join(missing)}")
    corpus, train, dev = ((Path(data_dir) / f).read_text(encoding="utf-8") for f in COURSE_FILES)
    pairs = [line.split("\t") for line in dev.splitlines() if line.strip()]
    return corpus, train, [(q, a) for q, a in pairs]


def probes(corpus, length, seed):
    """Pairs of id sequences that agree before a cut and differ from it on; ids drawn from the handout's
    vocabulary (pad, mask, then the corpus's characters)."""
    rng, vocab = random.Random(seed), len(set(corpus)) + 2
    sequences, cuts = [], []
    for _ in range(PROBE_PAIRS):
        a = [rng.randrange(2, vocab) for _ in range(length)]
        cut = rng.randrange(1, length)
        b = a[:cut] + [(t - 2 + rng.randrange(1, vocab - 2)) % (vocab - 2) + 2 for t in a[cut:]]
        sequences += [a, b]
        cuts.append(cut)
    return sequences, cuts


def inputs(profile, hp, data_dir=None, seed=1):
    """(the job's arguments: {"train": the training sandbox's, "evaluate": the prediction sandbox's, "hp"}, what only
    the grader keeps: the answers and the probe cuts). `seed` is the grading's secret (thresholds.job_seed)."""
    if profile == "smoke":
        corpus, train, dev = encyclopedia.generate(seed)
    else:
        corpus, train, dev = course_data(data_dir)
    sequences, cuts = probes(corpus, min(32, hp.get("block_size", 64) - 1), seed)
    modules = {"dataset_module": "dataset", "attention_module": "attention"}
    args = {"train": {**modules, "corpus": corpus, "train_tsv": train},
            "evaluate": {**modules, "dev_questions": [q for q, _ in dev], "probes": sequences}, "hp": hp}
    return args, {"answers": [a for _, a in dev], "cuts": cuts}


def score(result, kept):
    """(dev accuracy, what to tell the student, the bug when one is evident, figures for the report)."""
    predictions, answers = result.get("predictions"), kept["answers"]
    if not isinstance(predictions, list) or len(predictions) != len(answers):
        raise ValueError(f"the job returned {type(predictions).__name__} predictions for {len(answers)} questions")
    right = sum(p == a for p, a in zip(predictions, answers, strict=True))
    accuracy = right / len(answers)
    lines = [f"dev accuracy {accuracy:.1%} ({right} of {len(answers)} held-out people)"] + lm.timings(result)
    bug, shown = lm.sees_the_future(result, kept["cuts"])
    return Score(accuracy, lines + shown, bug, lm.curves_figure(result.get("curve") or {}))
