"""Check of london_baseline.py (CS224N A4 2024): main() returns the dev accuracy, in percent, of predicting
"London" for every example, reading birth_dev.tsv from the working directory through utils.evaluate_places.

The grader writes its own birth_dev.tsv twice, with different London rates (never the course's 5.0%), so a
hard-coded number cannot pass.
"""
import math
import random

import pytest

from graders.checks.feedback import Feedback
from graders.problems import CheckFailed, InterfaceError, about
from graders_packs.cs224n.corpus import FIRST, LAST, PLACES
from graders_packs.cs224n.reference.london import london_accuracy

__all__ = ["london_py", "test_london_baseline"]
DEV = "birth_dev.tsv"


@pytest.fixture
def london_py(submission):
    return submission.module("london_baseline.py")


def dev_file(seed, n, londoners):
    rng = random.Random(seed)
    places = ["London"] * londoners + [rng.choice(PLACES) for _ in range(n - londoners)]
    rng.shuffle(places)
    return "".join(f"Where was {rng.choice(FIRST)} {rng.choice(LAST)} born?\t{p}\n" for p in places)


def test_london_baseline(london_py, submission):
    for seed, n, londoners in ((1, 40, 3), (2, 64, 16)):
        text = dev_file(seed, n, londoners)
        want = london_accuracy(text)
        submission.write({DEV: text})
        with about(f"{DEV} with {n} examples, {londoners} of them born in London", "main()"):
            got = london_py.main()
        if type(got) not in (int, float):
            raise InterfaceError(f"main() returned {type(got).__name__ if got is not None else 'None'}, expected the "
                                 "accuracy as a number from 0.0 to 100.0")
        if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9):
            continue
        bug = None
        if math.isclose(got, want / 100, rel_tol=1e-9):
            bug = "the accuracy is a fraction (correct / total), not a percentage"
        elif got == 0:
            bug = "main() returns 0.0: the accuracy is printed or computed but never assigned to `accuracy`"
        elif math.isclose(got, 5.0):
            bug = "5.0, the course dev set's figure, hard-coded"
        raise CheckFailed(Feedback(f"main() returned {got!r}; predicting London for every example of {DEV} scores "
                                   f"{want:g}%", f"{DEV} with {n} examples, {londoners} of them born in London",
                                   bug=bug, repro="main()"))
