"""hw6's written answers (answers.yaml) against the key in written_key.yaml: the trainable parameters of each
fine-tuning type for two labels and hidden size d, as formulas. params_head: head tuning trains the classifier,
2d+2; params_prefix: prefix tuning adds a prefix of l vectors, 2d+2+ld; params_lora: LoRA of rank r on one d x d
matrix adds two factors, 2dr. The first two are what test_head_trainable and test_prefix_trainable measure.

Withheld from the student kit, which would otherwise ship the key.
"""
from pathlib import Path

from graders.checks.written import Key, grade

KIT = "withheld"
KIT_WHY = "they compare your written answers with the answer key, which a kit must not hold"
KEY = Key.load(Path(__file__).with_name("written_key.yaml"))
__all__ = ["test_written_params_head", "test_written_params_prefix", "test_written_params_lora"]


def test_written_params_head(submission):
    grade(submission, KEY)


def test_written_params_prefix(submission):
    grade(submission, KEY)


def test_written_params_lora(submission):
    grade(submission, KEY)
