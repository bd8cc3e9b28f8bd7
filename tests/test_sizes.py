"""Every check that hands a student attention-like inputs does so, at least once, with sizes that differ pairwise
(graders/checks/sizes.py), so no layout is ambiguous.

Read from the checks themselves, not from a grading run: it needs no sandbox and no student (a second), and it
sees a new check as soon as a spec's checks package holds it. A grading run's wire would show the tensors' shapes
but not which axis is B and which n_head; the checks' arguments name them. Each hypothesis check's strategies are
drawn once to see whether it draws sizes at all; if it does, one of its explicit examples (@example) must have
distinct sizes, whatever hypothesis draws besides (drawn sizes may collide and shrink toward 1). A check's fixed
sizes are built as `Dims`, which refuse to be ambiguous, so importing the checks asserts them; sizes written out
as plain numbers are not seen here.
"""
import warnings

import pytest
from conftest import hypothesis_checks
from hypothesis import strategies as st

from graders.checks import sizes


def checks():
    return [pytest.param(check, id=f"{a}::{name}") for (a, name), check in hypothesis_checks().items()]


def draws_sizes(check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drawn = st.fixed_dictionaries(check.hypothesis._given_kwargs).example()
    return sizes.named(*drawn.values(), **drawn)


@pytest.mark.parametrize("check", checks())
def test_hypothesis_checks_have_an_unambiguous_example(check):
    if not draws_sizes(check):
        return
    examples = [sizes.named(*e.kwargs.values(), **e.kwargs) for e in check.hypothesis_explicit_examples]
    assert any(not sizes.clashes(s) for s in examples), (
        f"{check.__name__} draws sizes but has no @example whose sizes all differ: {examples}")


def test_dims_refuse_equal_sizes():
    with pytest.raises(ValueError, match="B = n_head"):
        sizes.Dims(B=2, n_head=2, T=5, head_dim=3)
    with pytest.raises(ValueError, match="head_dim = block_size"):
        sizes.Dims(B=3, n_head=2, T=5, head_dim=4, block_size=4)
    assert sizes.Dims(B=3, n_head=2, T=5, head_dim=4).n_embd == 8


def test_harmless_equalities_pass():
    """Sizes of 1, n_embd = head_dim with one head, T = block_size, and what the interface forces."""
    sizes.Dims(B=1, n_head=1, T=1, head_dim=8)
    sizes.Dims(B=3, n_head=2, T=7, head_dim=5, block_size=7)
    sizes.Dims(B=3, n_head=2, T=32, head_dim=32, block_size=32, forced=("T", "head_dim", "block_size"))


def test_named_reads_every_spelling():
    from graders.checks.inputs import Case
    assert sizes.named(Case(B=3, T=7, n_heads=2, head_dim=5)) == dict(B=3, T=7, n_head=2, head_dim=5, n_embd=10)
    assert sizes.named(dict(n_head=2, E=8, block=16, seed=3)) == dict(n_head=2, n_embd=8, block_size=16, head_dim=4)
    assert sizes.named(B=3, h=2, T=5, half=2, seed=1) == dict(B=3, n_head=2, T=5, head_dim=4, n_embd=8)
