"""The PA2 part 1 threshold, grader side: speech segments for the job, and the accuracy of what it returns.

The job (jobs/part1.py, in the sandbox next to the student's transformer.py) trains the student's encoder and
classifier on labelled segments; a fresh sandbox loads the weights and predicts the speaker of each test segment;
the job never sees the test labels,
and the grader computes the accuracy itself.
"""
from pathlib import Path

from graders.checks import lm
from graders.jobs import JobSource, Score
from graders_packs.ucsd_cse256_pa2 import mainpy, speeches

# The job wraps an encoder that returns no class scores in the classifier part 1 asks students to write (masked mean
# pooling and a linear head), so a student kit cannot ship it: this threshold runs only in the course autograder.
KIT = "withheld"
KIT_WHY = "its training job holds a classifier like the one part 1 asks you to write"
HERE = Path(__file__).parent
JOB = JobSource(lm.JOB_WEIGHTS, HERE / "models.py", HERE / "jobs" / "common.py", HERE / "jobs" / "part1.py")
submission_args = mainpy.job_args  # main.py's reading: the job builds the models as the checks did
SMOKE = {"train": 900, "test": 300}   # segments of the synthetic speakers


def inputs(profile, hp, data_dir=None, seed=1):
    """(the job's arguments: {"train": the training sandbox's, "evaluate": the prediction sandbox's, "hp"}, what only
    the grader keeps: the test labels). `seed` is the grading's secret (thresholds.job_seed)."""
    train, test, stoi = speeches.classification(profile, data_dir, seed, SMOKE)
    common = {"model_module": "transformer", "vocab_size": len(stoi)}
    args = {"train": {**common, "train": [[label, speeches.encode(stoi, t)] for label, t in train]},
            "evaluate": {**common, "test": [speeches.encode(stoi, t) for _, t in test]}, "hp": hp}
    return args, {"labels": [label for label, _ in test]}


def score(result, kept):
    """(test accuracy, what to tell the student, no bug, the loss curve)."""
    predictions, labels = result.get("predictions"), kept["labels"]
    if not isinstance(predictions, list) or len(predictions) != len(labels):
        raise ValueError(f"the job returned {type(predictions).__name__} predictions for {len(labels)} segments")
    right = sum(p == y for p, y in zip(predictions, labels, strict=True))
    lines = [f"test accuracy {right / len(labels):.1%} ({right} of {len(labels)} segments' speakers)"]
    lines += lm.timings(result)
    return Score(right / len(labels), lines, None, lm.curves_figure(result.get("curve") or {}))
