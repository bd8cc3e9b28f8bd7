"""Checks of the Perceiver blocks (CS224N A5 2023): DownProjectBlock and UpProjectBlock, written by the
student from __init__ up, so their parameter names are the student's own.

The grader gives the student's module random weights of its own shapes (through its own state_dict names),
then finds the parts by role: C by its shape, the CausalCrossAttention by its key/query/value/proj, the MLP
by its two Linear shapes, and the layer norms by what is left. It computes every reading the handout allows
(which tensors get a layer norm) with those weights and passes the student if one matches, naming it.
"""
import itertools

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from graders.checks.compare import matches, require_tensor
from graders.checks.feedback import Feedback
from graders.checks.modules import config, expect_causal
from graders.problems import CheckFailed, InterfaceError, about
from graders_packs.cs224n.reference import attention as ref_attention

__all__ = ["model_py", "test_down_project_matches", "test_down_project_causal", "test_up_project_matches",
           "test_up_project_causal"]

# Not in the student kit: the readings below re-implement the reference blocks around weights taken from the
# student's own module, so the expected values are new for every submission.
KIT = "withheld"
KIT_WHY = ("they run the reference's blocks around weights taken from your own module, so no expected value could "
           "be recorded in advance")
# Sizes that all differ (graders/checks/sizes.py), run by each check whatever hypothesis draws besides; first its
# twin with L = T, where a block that swaps the input and the latents still runs, so its output names that bug.
UNAMBIGUOUS = dict(n_head=2, E=8, block=16, L=6, B=3, T=5, seed=0)
TWIN = {**UNAMBIGUOUS, "L": 3, "T": 3}
ATTENTION = ("key", "query", "value", "proj")


@pytest.fixture
def model_py(submission):
    return submission.module("model.py")


class Parts:
    """The student's weights by role: the cross-attention, the MLP and the layer norms in order."""

    def __init__(self, state, E, cls):
        self.state = state
        names = [k.removesuffix(".weight") for k, v in state.items() if k.endswith(".weight")]
        prefix = next((n.removesuffix("key") for n in names if n.endswith("key") and all(
            f"{n.removesuffix('key')}{part}.weight" in state for part in ATTENTION)), None)
        if prefix is None:
            raise InterfaceError(f"{cls} has no CausalCrossAttention (parameters key, query, value and proj); its "
                                 f"parameters are {', '.join(state)[:300]}")
        self.attention = {k.removeprefix(prefix): v for k, v in state.items()
                          if k.startswith(prefix) and k.removeprefix(prefix).split(".")[0] in ATTENTION}
        up = next((n for n in names if state[f"{n}.weight"].shape == (4 * E, E)), None)
        down = next((n for n in names if state[f"{n}.weight"].shape == (E, 4 * E)), None)
        if up is None or down is None:
            raise InterfaceError(f"{cls} has no MLP of Linear(n_embd, 4*n_embd) and Linear(4*n_embd, n_embd) like "
                                 f"Block's; its parameters are {', '.join(state)[:300]}")
        self.mlp = nn.Sequential(nn.Linear(E, 4 * E), nn.GELU(), nn.Linear(4 * E, E))
        self.mlp.load_state_dict({"0.weight": state[f"{up}.weight"], "2.weight": state[f"{down}.weight"],
                                  "0.bias": state.get(f"{up}.bias", torch.zeros(4 * E)),
                                  "2.bias": state.get(f"{down}.bias", torch.zeros(E))})
        taken = {f"{prefix}{p}" for p in ATTENTION} | {up, down}
        self.norms = [(n, state[f"{n}.weight"], state.get(f"{n}.bias")) for n in names
                      if n not in taken and state[f"{n}.weight"].shape == (E,)]
        if not self.norms:
            raise InterfaceError(f"{cls} has no LayerNorm(n_embd); Block has two (ln1 before the attention, ln2 "
                                 "before the MLP)")
        self.n_embd = E

    def attend(self, block_size, n_head):
        attn = ref_attention.CausalCrossAttention(config(self.n_embd, n_head, block_size)).eval()
        attn.load_state_dict({**self.attention, "mask": attn.mask})
        return attn

    def norm(self, i):
        if i is None:
            return nn.Identity(), "none"
        name, w, b = self.norms[i]
        return (lambda t: F.layer_norm(t, w.shape, w, b)), name


def student_block(model_py, cls, cfg, seed):
    """The student's cls(cfg) in eval mode with seeded random weights of its own parameter shapes."""
    shown = ", ".join(f"{k}={v!r}" for k, v in vars(cfg).items())
    repro = f"config = GPTConfig({shown}); m = {cls}(config); m.load_state_dict(random weights); m.eval()"
    with about(f"{cls}(config) with config {shown}", repro):
        m = getattr(model_py, cls)(cfg)
        state, kinds = m.state_dict(), m.state_dict(keep_vars=True)
        if type(state) is not dict or type(kinds) is not dict or any(type(v) is not torch.Tensor
                                                                     for v in state.values()):
            raise InterfaceError(f"{cls}.state_dict() did not return a dict of tensors")
        g = torch.Generator().manual_seed(seed)
        weights = {k: torch.rand(v.shape, generator=g) - 0.5 if getattr(kinds.get(k), "type_name", "") == "Parameter"
                   else v for k, v in state.items()}
        m.load_state_dict(weights)
        m.eval()
    return m, Parts(weights, cfg.n_embd, cls), repro


def cross(x_q, x_kv, attn, mlp, ln_q, ln_kv, ln_mlp, attn_residual=True, mlp_residual=True):
    """reference cross_block, with either residual left out for naming that bug."""
    x = (x_q if attn_residual else 0) + attn(ln_kv(x_kv), ln_q(x_q))
    return (x if mlp_residual else 0) + mlp(ln_mlp(x))


def outputs(parts, attn, x_q, x_kv, side):
    """Every (label, output) of the allowed readings, and every (bug, thunk) that computes a known bug's output
    only when needed (a passing example never pays for them). `side` says which input must get a layer norm
    ("q": C in DownProjectBlock, "kv": y in UpProjectBlock); the other may."""
    norms = range(len(parts.norms))
    q_in, kv_in = ("C", "x_input") if side == "q" else ("x_input", "y")
    must_in = q_in if side == "q" else kv_in

    def placed(must, may):
        """(ln on the queries' input, ln on the keys' and values' input) and their names."""
        (ln_must, a), (ln_may, b) = parts.norm(must), parts.norm(may)
        return ((ln_must, ln_may), (a, b)) if side == "q" else ((ln_may, ln_must), (b, a))

    allowed, bugs = [], []
    for must, may, before_mlp in itertools.product(norms, [None, *norms], norms):
        (ln_q, ln_kv), (q_name, kv_name) = placed(must, may)
        ln_mlp, mlp_name = parts.norm(before_mlp)
        with torch.no_grad():
            allowed.append((f"layer norm {q_name} on {q_in} (the queries), {kv_name} on {kv_in} (keys and values), "
                            f"{mlp_name} before the MLP", cross(x_q, x_kv, attn, parts.mlp, ln_q, ln_kv, ln_mlp)))
        bugs += [
            ("no residual connection around the cross-attention",
             lambda q=ln_q, kv=ln_kv, m=ln_mlp: cross(x_q, x_kv, attn, parts.mlp, q, kv, m, attn_residual=False)),
            ("no residual connection around the MLP",
             lambda q=ln_q, kv=ln_kv, m=ln_mlp: cross(x_q, x_kv, attn, parts.mlp, q, kv, m, mlp_residual=False)),
            ("CausalCrossAttention(x_kv, x_q) called with its two arguments the other way round",
             lambda q=ln_q, kv=ln_kv, m=ln_mlp: cross(x_q, x_kv, lambda a, b: attn(b, a), parts.mlp, q, kv, m)),
            (f"{kv_in} supplies the queries (and the residual) instead of {q_in}",
             lambda q=ln_q, kv=ln_kv, m=ln_mlp: cross(x_kv, x_q, attn, parts.mlp, kv, q, m)),
            (f"no layer norm on {must_in}, which the handout asks for",
             lambda may=may, m=ln_mlp: cross(x_q, x_kv, attn, parts.mlp, *placed(None, may)[0], m)),
        ]
    return allowed, bugs


def expect_reading(got, allowed, bugs, tol, what, case, repro):
    got = require_tensor(got, what)
    want = allowed[0][1]
    if got.shape != want.shape:
        raise CheckFailed(Feedback(f"{what} has shape {tuple(got.shape)}, expected {tuple(want.shape)}", case,
                                   repro=repro))
    readings = [label for label, out in allowed if matches(got, out, tol)]
    if readings:
        return readings[0] if len(readings) == 1 else None  # None: this input cannot tell the readings apart
    closest = min((got.double() - out.double()).abs().max().item() for _, out in allowed)
    raise CheckFailed(Feedback(
        f"{what} matches none of the readings of the handout (Block's residuals around the attention and the MLP, "
        "layer norms before them)", case, [f"Max abs difference from the closest reading: {closest:.3g}"],
        next((label for label, thunk in bugs if _is(got, thunk, tol)), None), repro))


def _is(got, thunk, tol):
    """Whether a known bug's output equals `got`; shapes that do not broadcast mean it is not that bug."""
    try:
        with torch.no_grad():
            out = thunk()
    except RuntimeError:
        return False
    return out.shape == got.shape and matches(got, out, tol)


@st.composite
def shapes(draw, min_L=1):
    """B 1-3, 1-2 heads, input length T and bottleneck L up to block_size (8 or 16)."""
    n_head = draw(st.sampled_from([1, 2]))
    block = draw(st.sampled_from([8, 16]))
    return dict(n_head=n_head, E=n_head * draw(st.sampled_from([4, 8])), block=block,
                L=draw(st.integers(min_L, block)), B=draw(st.integers(1, 3)), T=draw(st.integers(min_L, block)),
                seed=draw(st.integers(0, 2**16)))


def setup(model_py, cls, case):
    cfg = config(case["E"], case["n_head"], case["block"], bottleneck_dim=case["L"])
    m, parts, repro = student_block(model_py, cls, cfg, case["seed"])
    g = torch.Generator().manual_seed(case["seed"])
    x = torch.randn(case["B"], case["T"], case["E"], generator=g)
    y = torch.randn(case["B"], case["L"], case["E"], generator=g)
    line = (f"g = torch.Generator().manual_seed({case['seed']}); x_input = torch.randn({case['B']}, {case['T']}, "
            f"{case['E']}, generator=g); y = torch.randn({case['B']}, {case['L']}, {case['E']}, generator=g)")
    return m, parts, x, y, f"{repro}; {line}"


def latents(parts, case):
    want = (1, case["L"], case["E"])
    C = next((v for k, v in parts.state.items() if "." not in k and v.shape == want), None)
    if C is None:
        found = ", ".join(f"{k} {tuple(v.shape)}" for k, v in parts.state.items() if "." not in k) or "none"
        raise InterfaceError(f"DownProjectBlock needs self.C of shape (1, bottleneck_dim, n_embd) = {want} as an "
                             f"nn.Parameter; its own parameters and buffers are: {found}")
    return C


@given(case=shapes())
@example(case=TWIN)
@example(case=UNAMBIGUOUS)
def test_down_project_matches(model_py, submission, case):
    m, parts, x, _, repro = setup(model_py, "DownProjectBlock", case)
    C = latents(parts, case)
    allowed, bugs = outputs(parts, parts.attend(case["block"], case["n_head"]), C, x, side="q")
    what, shown = "DownProjectBlock(config)(x_input)", f"x_input of shape {tuple(x.shape)}, bottleneck_dim {case['L']}"
    with about(shown, f"{repro}; m(x_input)"):
        got = m(x)
    reading = expect_reading(got, allowed, bugs, submission.tolerance("float32"), what, shown, f"{repro}; m(x_input)")
    if reading:
        submission.note(f"Your code follows the reading: {reading}.")


@given(case=shapes())
@example(case=TWIN)
@example(case=UNAMBIGUOUS)
def test_up_project_matches(model_py, submission, case):
    m, parts, x, y, repro = setup(model_py, "UpProjectBlock", case)
    allowed, bugs = outputs(parts, parts.attend(case["block"], case["n_head"]), x, y, side="kv")
    what = "UpProjectBlock(config)(y, x_input)"
    shown = f"y of shape {tuple(y.shape)}, x_input of shape {tuple(x.shape)}"
    with about(shown, f"{repro}; m(y, x_input)"):
        got = m(y, x)
    reading = expect_reading(got, allowed, bugs, submission.tolerance("float32"), what, shown,
                             f"{repro}; m(y, x_input)")
    if reading:
        submission.note(f"Your code follows the reading: {reading}.")


def expect_causal_block(model_py, submission, cls, case):
    m, _, x, y, repro = setup(model_py, cls, case)
    names, inputs = (["x_input"], [x]) if cls == "DownProjectBlock" else (["y", "x_input"], [y, x])
    call = f"m({', '.join(names)})"
    shown = ", ".join(f"{name} of shape {tuple(t.shape)}" for name, t in zip(names, inputs, strict=True))
    with about(shown, f"{repro}; {call}"):
        expect_causal(lambda *args: require_tensor(m(*args), f"{cls}(config){call[1:]}"), inputs,
                      min(case["L"], case["T"]) // 2 - 1, submission.tolerance("float32"), shown, f"{repro}; {call}")


@given(case=shapes(min_L=2))
@example(case=TWIN)
@example(case=UNAMBIGUOUS)
def test_down_project_causal(model_py, submission, case):
    """Latent i sees input positions up to i only (the cross-attention's causal mask)."""
    expect_causal_block(model_py, submission, "DownProjectBlock", case)


@given(case=shapes(min_L=2))
@example(case=TWIN)
@example(case=UNAMBIGUOUS)
def test_up_project_causal(model_py, submission, case):
    """Output position t sees latents and input positions up to t only."""
    expect_causal_block(model_py, submission, "UpProjectBlock", case)
