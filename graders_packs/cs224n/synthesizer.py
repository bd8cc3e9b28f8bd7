"""Checks of SynthesizerAttention.forward (CS224N A5 2021): per head, softmax(ReLU(x·A_i + b1)·B_i + b2) over
the first T columns, causally masked, times the values, heads merged, then proj."""
import math

from hypothesis import example, given
from hypothesis import strategies as st
from torch.nn import functional as F

from graders.checks.modules import config, expect_causal, expect_forward, inputs, pair
from graders_packs.cs224n.fixtures import attention_py
from graders_packs.cs224n.reference import attention as ref

__all__ = ["attention_py", "test_synthesizer_matches_reference", "test_synthesizer_causal"]
# Not in the student kit (its checks run in the course autograder only): `forward` below re-implements the
# reference Synthesizer, and the checks compare with a reference nn.Module.
KIT = "withheld"
# Sizes that all differ (graders/checks/sizes.py), run by each check whatever hypothesis draws besides.
UNAMBIGUOUS = dict(n_head=2, n_embd=8, block_size=16, B=3, T=5, seed=0)


def forward(m, x, relu=True, b2=True, scale=1.0, mask="before", transpose=True, proj=True):
    """The Synthesizer with one step changed, for naming what a wrong output does."""
    B, T, C = x.shape
    h = m.w1(x)
    a = ref.split(F.relu(h) if relu else h, m.n_head)
    att = (a @ m.w2[:, :T] + (m.b2[:T] if b2 else 0)) * scale
    future = m.mask[:, :, :T, :T] == 0
    if mask == "before":
        att = att.masked_fill(future, -1e10)
    att = F.softmax(att, dim=-1)
    if mask == "after":
        att = att.masked_fill(future, 0.0)
    y = att @ ref.split(m.value(x), m.n_head)
    y = ref.merge(y) if transpose else y.contiguous().view(B, T, C)
    return m.proj(y) if proj else y


BUGS = {
    "no causal mask: every token attends to the future": lambda m, x: forward(m, x, mask=None),
    "mask applied after the softmax (rows no longer sum to 1)": lambda m, x: forward(m, x, mask="after"),
    "ReLU missing after w1": lambda m, x: forward(m, x, relu=False),
    "b2 not added": lambda m, x: forward(m, x, b2=False),
    "scores scaled by 1/sqrt(head size), which the Synthesizer does not do":
        lambda m, x: forward(m, x, scale=1 / math.sqrt(m.w2.shape[0])),
    "heads merged without transposing back (view of (B, nh, T, hs) as (B, T, C))":
        lambda m, x: forward(m, x, transpose=False),
    "output projection self.proj not applied": lambda m, x: forward(m, x, proj=False),
}


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
