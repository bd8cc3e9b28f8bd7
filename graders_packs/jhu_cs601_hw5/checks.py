"""Checks of gpt/model.py (JHU CS 601.471/671 hw5): nanoGPT's CausalSelfAttention(config).

The layers and the mask buffer are read from the module the student's __init__ builds (state_dict and
get_buffer run in the sandbox), with and without config.bias; forward is compared with the reference under the
reference's weights in eval mode, for B > 1 and every T below block_size, where a mask that is not sliced to T
breaks. Dropout has checks of its own: off in eval mode whatever config.dropout, and in train mode drawn afresh on
each call at config.dropout's rate, on the attention weights and on c_proj's output, as nanoGPT drops them.
"""
import math
import types
from dataclasses import dataclass

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from graders.checks.compare import close, matches
from graders.checks.feedback import Feedback, fail
from graders.checks.modules import DROPOUT_IN_EVAL, Pair, expect_causal, expect_forward, inputs, pair
from graders.checks.sizes import Dims
from graders.problems import CheckFailed, InterfaceError, NotChecked, NotGradable, StudentError, about
from graders_packs.jhu_cs601_hw5 import bugs
from graders_packs.jhu_cs601_hw5 import reference as ref

__all__ = ["model_py", "test_projections", "test_causal_mask_buffer", "test_forward", "test_causality",
           "test_dropout_eval", "test_dropout_train"]
FILE, CLASS = "gpt/model.py", "CausalSelfAttention"
MASK_NAMES = ("causal_mask", "casual_mask")  # the handout's text, the starter's spelling
STARTER_SPELLING = ("the mask buffer is named casual_mask, the starter code's spelling of causal_mask; "
                    "the grader accepts either")
DROPOUTS = (0.1, 0.5)  # config.dropout values the dropout checks build with; two, so a hard-coded rate shows
DRAWS = 16             # seeded calls per train-mode measurement
# test_dropout_train: one token (T = 1) attends only to itself, so a dropped attention weight leaves c_proj's bias
# alone in the output; one head, so a row shows whether its one weight was dropped.
RATE_CASE, RATE_ROWS = dict(n_embd=8, n_head=1, block_size=1, seed=3), 256
# Sizes that all differ (graders/checks/sizes.py), run by each hypothesis check whatever it draws besides; first
# its twin with T = n_head, where a view of (B, T, C) as (B, nh, T, hs) still runs, so its output names that bug.
UNAMBIGUOUS = dict(n_head=2, n_embd=8, block_size=16, B=3, T=5, seed=0)
TWIN = {**UNAMBIGUOUS, "T": 2}


@pytest.fixture
def model_py(submission):
    """The student's gpt/model.py; a renamed class is an interface error that lists the classes the file has."""
    source, extraction = submission.source(FILE), submission.extraction(FILE)
    if source.problem is None and extraction.classes and CLASS not in extraction.classes + list(extraction.broken):
        raise NotGradable(f"{FILE} defines no class {CLASS}, the name the handout's Block builds its attention with; "
                          f"the classes it defines: {', '.join(extraction.classes)}")
    return submission.module(FILE)


def hw5_config(n_embd, n_head, block_size, dropout=0.0, bias=True):
    """The handout's GPTConfig fields the attention reads; dropout 0 unless a check is about dropout."""
    return types.SimpleNamespace(n_embd=n_embd, n_head=n_head, block_size=block_size, dropout=dropout, bias=bias)


def building(cfg):
    """What feedback says about a problem while the student's module is built or read from `cfg`."""
    shown = ", ".join(f"{k}={v!r}" for k, v in vars(cfg).items())
    return about(f"{CLASS} with config {shown}", f"config = GPTConfig({shown}); m = {CLASS}(config)")


def layers(model_py, cfg):
    """The student's module from cfg; an InterfaceError unless it holds c_attn = Linear(n_embd, 3 n_embd) and
    c_proj = Linear(n_embd, n_embd), the layers the grader copies the reference's weights into, with biases
    exactly when cfg.bias (else a failure that names the bug)."""
    with building(cfg):
        shapes = {k: tuple(v.shape) for k, v in getattr(model_py, CLASS)(cfg).state_dict().items()
                  if type(v) is torch.Tensor}
    C = cfg.n_embd
    want = {"c_attn.weight": (3 * C, C), "c_proj.weight": (C, C), "c_attn.bias": (3 * C,), "c_proj.bias": (C,)}
    wrong = [f"{k} {'is missing' if k not in shapes else f'has shape {shapes[k]}'} (expected {v})"
             for k, v in want.items() if shapes.get(k) != v and (k in shapes or "weight" in k)]
    held = f"Its state_dict holds: {', '.join(f'{k} {s}' for k, s in shapes.items()) or 'nothing'}"
    if wrong:
        raise InterfaceError(
            f"{CLASS} must hold c_attn = nn.Linear(n_embd, 3 * n_embd) and c_proj = nn.Linear(n_embd, n_embd) as the "
            f"handout's __init__ does (the grader gives them the reference's weights): {'; '.join(wrong)}. {held}")
    unlike = [k for k in ("c_attn.bias", "c_proj.bias") if (k in shapes) != cfg.bias]
    if unlike:
        fail(f"with config.bias={cfg.bias}, {' and '.join(unlike)} {'are' if len(unlike) > 1 else 'is'} "
             f"{'missing' if cfg.bias else 'present'}", f"config with bias={cfg.bias}", [held], bugs.BIAS_IGNORED,
             f"m = {CLASS}(config); m.state_dict().keys()")


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
    cfg = hw5_config(case["n_embd"], case["n_head"], case["block_size"], case.get("dropout", 0.0))
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


@pytest.mark.parametrize("bias", [True, False])
def test_projections(model_py, bias):
    layers(model_py, hw5_config(12, 3, 8, bias=bias))


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


def mask_bug(mask, block_size):
    """The known bug a wrong causal_mask buffer shows, or None; `mask` is the student's buffer. Each bug's mask is
    read off the reference's (so the student kit, which replays the reference, holds no mask of its own)."""
    n = block_size
    if mask.numel() != n * n:
        return None
    allowed = mask.reshape(n, n) != 0
    if bool(allowed.all()):
        return bugs.TRIL_DISCARDED
    right = ref.causal_mask(n).reshape(n, n) != 0
    for name, want in [("upper triangle kept (torch.triu): the mask allows the future instead of the past", right.T),
                       ("diagonal masked (tril with diagonal=-1): each token must be allowed to attend to itself",
                        right & ~torch.eye(n, dtype=torch.bool)),
                       ("mask inverted: 1 (allowed) above the diagonal, 0 on and below it", ~right)]:
        if torch.equal(allowed, want):
            return name
    return None


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
                                   "and the heads", case, bug=mask_bug(mask, n), repro=repro))
    allowed = ref.causal_mask(n) != 0
    if not torch.equal(mask != 0, allowed):
        bad = (mask != 0) != allowed
        i, j = bad.nonzero()[0].tolist()[2:]
        raise CheckFailed(Feedback(
            f"{what} must be nonzero exactly on and below the diagonal (query i may attend to key j <= i)", case,
            [f"First difference at [0, 0, {i}, {j}]: expected {'nonzero' if allowed[0, 0, i, j] else '0'}, got "
             f"{mask[0, 0, i, j].item():g}"], mask_bug(mask, n), repro))


@given(case=shapes())
@example(case=TWIN)
@example(case=UNAMBIGUOUS)
def test_forward(model_py, submission, case):
    p = hw5_pair(model_py, case)
    x, line = inputs(case["B"], case["T"], case["n_embd"], case["seed"])
    expect_forward(p, x, line, submission.tolerance("float32"), bugs.BUGS, f"block_size={case['block_size']}")


@given(case=shapes(min_T=2))
@example(case=TWIN)
@example(case=UNAMBIGUOUS)
def test_causality(model_py, submission, case):
    p = hw5_pair(model_py, case)
    x, line = inputs(case["B"], case["T"], case["n_embd"], case["seed"])
    expect_causal(lambda x: p.forward(x, "causality"), [x], case["T"] // 2 - 1, submission.tolerance("float32"),
                  f"x of shape {tuple(x.shape)}, block_size={case['block_size']}", f"{p.repro}; {line}; m(x)")


@pytest.mark.parametrize("dropout", DROPOUTS)
def test_dropout_eval(model_py, submission, dropout):
    """With config.dropout > 0, the student's module in eval mode gives what it gives with dropout 0 (same weights),
    on calls seeded differently alike; compared with the student's own dropout-0 output, so a forward bug costs
    test_forward's points, not these."""
    d = Dims(B=4, n_head=2, T=7, head_dim=8, block_size=7)  # T = block_size: a mask not sliced to T still runs
    case = dict(n_embd=d.n_embd, n_head=d.n_head, block_size=d.block_size, seed=1)
    p, p0 = hw5_pair(model_py, {**case, "dropout": dropout}), hw5_pair(model_py, case)
    x, line = inputs(d.B, d.T, d.n_embd, 1)
    tol, what = submission.tolerance("float32"), f"config.dropout={dropout}, eval mode"
    shown, repro = f"x of shape {tuple(x.shape)}; {what}", f"{p.repro}; {line}"
    first, second = p.seeded(x, (0, 1), what)
    if not matches(first, second, tol, equal_nan=True):
        fail(f"in eval mode, {p.call}(x) gave different outputs on two calls with the same x", shown,
             bug=DROPOUT_IN_EVAL, repro=f"{repro}; m(x) - m(x)")
    own = p0.forward(x, "config.dropout=0, eval mode")
    if not matches(first, own, tol, equal_nan=True):
        fail(f"in eval mode, {p.call}(x) differs from the same module's output with dropout=0", shown,
             [f"Max abs difference: {(first.double() - own.double()).abs().nan_to_num(float('inf')).max().item():.3g}"]
             if first.shape == own.shape else [f"shapes {tuple(first.shape)} and {tuple(own.shape)}"],
             repro=f"{repro}; m(x) - m0(x), m0 built the same way with dropout=0")


@dataclass
class Rates:
    """What dropout did in train mode over DRAWS seeded calls: the share of output entries that are exactly 0
    (resid_dropout's rate) and the share of rows whose one attention weight was dropped (attn_dropout's)."""
    resid: float
    resid_n: int
    attn: float
    attn_n: int
    case: str
    repro: str


def margin(n):
    """Hoeffding: a share of n Bernoulli(q) draws is off q by more than this with probability <= 2.5e-7, so the
    four shares test_dropout_train measures fail a correct module with probability <= 1e-6."""
    return math.sqrt(math.log(2 / 2.5e-7) / (2 * n))


def train_rates(model_py, submission, dropout):
    """Rates of the student's module in train mode for config.dropout = `dropout`; fails at once when train mode
    gives the eval-mode output (no dropout) or drops the same entries or weights on every call (no fresh mask)."""
    p = hw5_pair(model_py, {**RATE_CASE, "dropout": dropout})
    x, line = inputs(RATE_ROWS, 1, RATE_CASE["n_embd"], RATE_CASE["seed"])
    case = f"x of shape {tuple(x.shape)}; config.dropout={dropout}, train mode, calls seeded 0 to {DRAWS - 1}"
    repro = f"{p.repro}; m.train(); {line}; [(torch.manual_seed(s), m(x)) for s in range({DRAWS})]"
    off = p.forward(x, f"config.dropout={dropout}, eval mode")
    with about(case, repro):
        p.student.train()
    ys = p.seeded(x, range(DRAWS), f"config.dropout={dropout}, train mode")
    if any(y.shape != x.shape for y in ys):
        fail(f"in train mode, {p.call}(x) has shape {tuple(ys[0].shape)}, expected {tuple(x.shape)}", case, repro=repro)
    outs, tol = torch.stack(ys), submission.tolerance("float32")
    bias = p.reference.state(parameters_only=True)["c_proj.bias"]
    if not torch.isfinite(outs).all():
        raise NotChecked(f"in train mode, {p.call}(x) gives NaN or infinite entries on a single token (T = 1), so "
                         "which entries dropout zeroes cannot be read; test_forward's feedback says what is wrong")
    if all(matches(y, off, tol) for y in outs):
        fail(f"in train mode, {p.call}(x) gives the eval-mode output", case, bug=bugs.DROPOUT_IGNORED, repro=repro)
    zero = outs == 0
    seen = ~zero.all(-1)  # rows that resid_dropout left something of
    dropped = (zero | close(outs, (bias / (1 - dropout)).expand_as(outs), tol)).all(-1) & seen
    if same_every_call(zero, torch.ones_like(zero)) or same_every_call(dropped, seen):
        fail(f"in train mode, {p.call}(x) drops the same output entries or attention weights on every call", case,
             bug=bugs.DROPOUT_NOT_RANDOM, repro=repro)
    return Rates(zero.double().mean().item(), zero.numel(), (dropped.sum() / seen.sum()).item(), int(seen.sum()),
                 case, repro)


def same_every_call(dropped, seen):
    """Whether something is dropped and each entry is dropped either in every call where it is seen or in none (calls
    along dim 0). Fresh masks at rate 0.1 or 0.5 leave all 256 rows (2048 entries) so with a probability far
    below 1e-6 (each row seen in 16 calls: at most 0.9^16 + 0.1^16 < 0.2)."""
    some, every = (dropped & seen).any(0), (dropped | ~seen).all(0)
    return bool(dropped.any()) and bool((every | ~some).all())


def test_dropout_train(model_py, submission):
    """In train mode, for config.dropout 0.1 and 0.5: outputs differ from eval mode's and from seed to seed, c_proj's
    output entries are zeroed at config.dropout's rate (resid_dropout) and a lone token's attention weight is
    dropped at that rate (attn_dropout: its dropped row leaves c_proj's bias, scaled by 1/(1 - dropout)). Which
    entries drop is not compared with the reference's: any draw order of the same distribution passes."""
    rates = {dropout: train_rates(model_py, submission, dropout) for dropout in DROPOUTS}
    for share, count, missing, words in [("resid", "resid_n", bugs.RESID_DROPOUT_MISSING, "output entries zeroed"),
                                         ("attn", "attn_n", bugs.ATTN_DROPOUT_MISSING, "attention weights dropped")]:
        got = {d: (getattr(r, share), margin(getattr(r, count))) for d, r in rates.items()}
        wrong = [d for d, (q, within) in got.items() if abs(q - d) > within]
        if not wrong:
            continue
        (low, m_low), (high, m_high) = got.values()
        bug = missing if max(low, high) == 0 else bugs.DROPOUT_HARD_CODED if abs(low - high) <= m_low + m_high else None
        d = wrong[0]
        fail(f"in train mode, {words}: a share of {got[d][0]:.3f} with config.dropout={d} (expected {d} "
             f"± {got[d][1]:.3f})", rates[d].case,
             [f"config.dropout={k}: {q:.3f} ({words})" for k, (q, _) in got.items()], bug, rates[d].repro)
