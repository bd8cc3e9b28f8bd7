"""A2S1's written answers (answers.yaml) against the key in written_key.yaml.

The questions, as answers.yaml names them: output_121 and output_131, the vectors attention outputs with
query121 and query131 (each within 0.05); rows_averaged_132, the value rows query132 averages (a set, e.g.
[v0, v1]); multiplications_per_query, the scalar multiplications unscaled attention of one query over n keys of
dimension d takes for the scores and the weighted sum (a formula in d and n; the softmax is not counted).

Withheld from the student kit, which would otherwise ship the key.
"""
from pathlib import Path

from graders.checks.written import Key, grade

KIT = "withheld"
KIT_WHY = "they compare your written answers with the answer key, which a kit must not hold"
KEY = Key.load(Path(__file__).with_name("written_key.yaml"))
__all__ = ["test_written_output_121", "test_written_output_131", "test_written_rows_132",
           "test_written_multiplications"]


def test_written_output_121(submission):
    grade(submission, KEY)


def test_written_output_131(submission):
    grade(submission, KEY)


def test_written_rows_132(submission):
    grade(submission, KEY)


def test_written_multiplications(submission):
    grade(submission, KEY)
