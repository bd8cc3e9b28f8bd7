"""The fixture the CS224N attention checks share: the student's attention.py, loaded in the sandbox."""
import pytest


@pytest.fixture
def attention_py(submission):
    return submission.module("attention.py")
