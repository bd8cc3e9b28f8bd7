"""Checks of SynthesizerAttention.forward (CS224N A5 2021): per head, softmax(ReLU(x·A_i + b1)·B_i + b2) over
the first T columns, causally masked, times the values, heads merged, then proj."""
from hypothesis import example, given
from hypothesis import strategies as st

from graders.checks.modules import config, expect_causal, expect_forward, inputs, pair
from graders_packs.cs224n.fixtures import attention_py
from graders_packs.cs224n.reference import attention as ref
from graders_packs.cs224n.synthesizer_bugs import BUGS

__all__ = ["attention_py", "test_synthesizer_matches_reference", "test_synthesizer_causal"]
# Sizes that all differ (graders/checks/sizes.py), run by each check whatever hypothesis draws besides.
UNAMBIGUOUS = dict(n_head=2, n_embd=8, block_size=16, B=3, T=5, seed=0)


@st.composite
def shapes(draw, min_T=1):
    """Configs and inputs: B 1-4, 1-4 heads, T from 1 to block_size - 1 (w2 has block_size - 1 columns)."""
    n_head = draw(st.sampled_from([1, 2, 4]))
    block = draw(st.sampled_from([8, 16, 33]))
    return dict(n_head=n_head, n_embd=n_head * draw(st.sampled_from([2, 4, 8])), block_size=block,
                B=draw(st.integers(1, 4)), T=draw(st.integers(min_T, block - 1)), seed=draw(st.integers(0, 2**16)))


@given(case=shapes())
@example(case=UNAMBIGUOUS)
def test_synthesizer_matches_reference(attention_py, submission, case):
    cfg = config(case["n_embd"], case["n_head"], case["block_size"])
    p = pair(attention_py, "SynthesizerAttention", ref.SynthesizerAttention, cfg, case["seed"])
    x, line = inputs(case["B"], case["T"], case["n_embd"], case["seed"])
    expect_forward(p, x, line, submission.tolerance("float32"), BUGS)


@given(case=shapes(min_T=2))
@example(case=UNAMBIGUOUS)
def test_synthesizer_causal(attention_py, submission, case):
    cfg = config(case["n_embd"], case["n_head"], case["block_size"])
    p = pair(attention_py, "SynthesizerAttention", ref.SynthesizerAttention, cfg, case["seed"])
    x, line = inputs(case["B"], case["T"], case["n_embd"], case["seed"])
    expect_causal(lambda x: p.forward(x, "causality"), [x], case["T"] // 2 - 1, submission.tolerance("float32"),
                  f"x of shape {tuple(x.shape)}", f"{p.repro}; {line}; m(x)")
