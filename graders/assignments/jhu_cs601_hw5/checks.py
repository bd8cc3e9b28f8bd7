"""Checks of gpt/model.py (JHU CS 601.471/671 hw5): nanoGPT's CausalSelfAttention(config).

The layers and the mask buffer are read from the module the student's __init__ builds (state_dict and
get_buffer run in the sandbox); forward is compared with the reference under the reference's weights in eval
mode (dropout off), for B > 1 and every T below block_size, where a mask that is not sliced to T breaks.
"""
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from graders.assignments.cs224n.modules import Pair, config, expect_causal, expect_forward, inputs, pair
from graders.assignments.jhu_cs601_hw5 import bugs
from graders.checks.feedback import Feedback
from graders.problems import CheckFailed, InterfaceError, NotGradable, StudentError, about
from reference import jhu_cs601_hw5 as ref

__all__ = ["model_py", "test_projections", "test_causal_mask_buffer", "test_forward", "test_causality"]
# Not in the student kit (its checks run in the course autograder only): they compare with reference nn.Modules.
KIT = "withheld"
FILE, CLASS = "gpt/model.py", "CausalSelfAttention"
MASK_NAMES = ("causal_mask", "casual_mask")  # the handout's text, the starter's spelling
STARTER_SPELLING = ("the mask buffer is named casual_mask, the starter code's spelling of causal_mask; "
                    "the grader accepts either")


@pytest.fixture
def model_py(submission):
    """The student's gpt/model.py; a renamed class is an interface error that lists the classes the file has."""
    source, extraction = submission.intake.files[FILE], submission.extractions[FILE]
    if source.problem is None and extraction.classes and CLASS not in extraction.classes + list(extraction.broken):
        raise NotGradable(f"{FILE} defines no class {CLASS}, the name the handout's Block builds its attention with; "
                          f"the classes it defines: {', '.join(extraction.classes)}")
    return submission.module(FILE)


def hw5_config(n_embd, n_head, block_size):
    """The handout's GPTConfig fields the attention reads; dropout 0 so outputs are deterministic."""
    return config(n_embd, n_head, block_size, dropout=0.0, bias=True)


def building(cfg):
    """What feedback says about a problem while the student's module is built or read from `cfg`."""
    shown = ", ".join(f"{k}={v!r}" for k, v in vars(cfg).items())
    return about(f"{CLASS} with config {shown}", f"config = GPTConfig({shown}); m = {CLASS}(config)")


def layers(model_py, cfg):
    """The student's module from cfg; an InterfaceError unless it holds c_attn = Linear(n_embd, 3 n_embd) and
    c_proj = Linear(n_embd, n_embd), the layers the grader copies the reference's weights into."""
    with building(cfg):
        shapes = {k: tuple(v.shape) for k, v in getattr(model_py, CLASS)(cfg).state_dict().items()
                  if type(v) is torch.Tensor}
    C = cfg.n_embd
    want = {"c_attn.weight": (3 * C, C), "c_attn.bias": (3 * C,), "c_proj.weight": (C, C), "c_proj.bias": (C,)}
    wrong = [f"{k} {'is missing' if k not in shapes else f'has shape {shapes[k]}'} (expected {v})"
             for k, v in want.items() if shapes.get(k) != v]
    if wrong:
        raise InterfaceError(
            f"{CLASS} must hold c_attn = nn.Linear(n_embd, 3 * n_embd) and c_proj = nn.Linear(n_embd, n_embd) as the "
            f"handout's __init__ does (the grader gives them the reference's weights): {'; '.join(wrong)}. "
            f"Its state_dict holds: {', '.join(f'{k} {s}' for k, s in shapes.items()) or 'nothing'}")


@dataclass
class Hw5Pair(Pair):
    """A Pair whose forward names the bug of a mask that is not sliced to the input's length."""
    block_size: int = 0

    def forward(self, x, what):
        try:
            return super().forward(x, what)
        except StudentError:
            B, T, C = x.shape
            if T >= self.block_size or not self.runs_at_full_block(B, C, what):
                raise
            raise CheckFailed(Feedback(f"{self.call}(x) raised an error for T = {T} < block_size = "
                                       f"{self.block_size}, but not for T = block_size", f"x of shape {(B, T, C)}",
                                       bug=bugs.MASK_FULL_BLOCK, repro=f"{self.repro}; m(x)")) from None

    def runs_at_full_block(self, B, C, what):
        try:
            super().forward(inputs(B, self.block_size, C, 0)[0], what)
        except StudentError:
            return False
        return True


def hw5_pair(model_py, case):
    cfg = hw5_config(case["n_embd"], case["n_head"], case["block_size"])
    layers(model_py, cfg)
    p = pair(model_py, CLASS, ref.CausalSelfAttention, cfg, case["seed"], parameters_only=True)
    return Hw5Pair(**vars(p), block_size=case["block_size"])


@st.composite
def shapes(draw, min_T=1):
    """1, 2 or 4 heads of 2-8 features, B 2-4, T from 1 to block_size - 1."""
    n_head = draw(st.sampled_from([1, 2, 4]))
    block = draw(st.sampled_from([8, 16]))
    return dict(n_head=n_head, n_embd=n_head * draw(st.sampled_from([2, 4, 8])), block_size=block,
                B=draw(st.integers(2, 4)), T=draw(st.integers(min_T, block - 1)), seed=draw(st.integers(0, 2**16)))


def test_projections(model_py):
    layers(model_py, hw5_config(12, 3, 8))


def mask_buffer(model_py, submission, cfg):
    """The student's mask buffer and its name: causal_mask or the starter's casual_mask (with a note)."""
    with building(cfg):
        m = getattr(model_py, CLASS)(cfg)
    for name in MASK_NAMES:
        try:
            with building(cfg):
                mask = m.get_buffer(name)
        except StudentError:
            continue
        if name != MASK_NAMES[0]:
            submission.note(STARTER_SPELLING)
        return name, mask
    with building(cfg):
        names = ", ".join(m.state_dict()) or "none"
    raise CheckFailed(Feedback(f"{CLASS} registers no buffer named causal_mask (or the starter's casual_mask) "
                               f"with self.register_buffer; its state_dict holds: {names}",
                               f"config with block_size={cfg.block_size}", repro=f"m = {CLASS}(config); m.causal_mask"))


@pytest.mark.parametrize("block_size", [5, 16])
def test_causal_mask_buffer(model_py, submission, block_size):
    """A buffer of shape (1, 1, block_size, block_size), nonzero exactly on and below the diagonal."""
    cfg = hw5_config(8, 2, block_size)
    name, mask = mask_buffer(model_py, submission, cfg)
    what, n = f"{CLASS}(config).{name}", block_size
    case, repro = f"config with block_size={n}", f"m = {CLASS}(config); m.{name}"
    if type(mask) is not torch.Tensor:
        raise InterfaceError(f"{what} is not a tensor")
    if tuple(mask.shape) != (1, 1, n, n):
        raise CheckFailed(Feedback(f"{what} has shape {tuple(mask.shape)}, expected (1, 1, {n}, {n}): the handout's "
                                   "buffer is viewed as (1, 1, block_size, block_size) so it broadcasts over the batch "
                                   "and the heads", case, bug=bugs.mask_bug(mask, n), repro=repro))
    allowed = ref.causal_mask(n) != 0
    if not torch.equal(mask != 0, allowed):
        bad = (mask != 0) != allowed
        i, j = bad.nonzero()[0].tolist()[2:]
        raise CheckFailed(Feedback(
            f"{what} must be nonzero exactly on and below the diagonal (query i may attend to key j <= i)", case,
            [f"First difference at [0, 0, {i}, {j}]: expected {'nonzero' if allowed[0, 0, i, j] else '0'}, got "
             f"{mask[0, 0, i, j].item():g}"], bugs.mask_bug(mask, n), repro))


@given(case=shapes())
def test_forward(model_py, submission, case):
    p = hw5_pair(model_py, case)
    x, line = inputs(case["B"], case["T"], case["n_embd"], case["seed"])
    expect_forward(p, x, line, submission.tolerance("float32"), bugs.BUGS, f"block_size={case['block_size']}")


@given(case=shapes(min_T=2))
def test_causality(model_py, submission, case):
    p = hw5_pair(model_py, case)
    x, line = inputs(case["B"], case["T"], case["n_embd"], case["seed"])
    expect_causal(lambda x: p.forward(x, "causality"), [x], case["T"] // 2 - 1, submission.tolerance("float32"),
                  f"x of shape {tuple(x.shape)}, block_size={case['block_size']}", f"{p.repro}; {line}; m(x)")
