"""Checks of RoPE (CS224N A4 2024): precompute_rotary_emb, apply_rotary_emb, and CausalSelfAttention with
config.rope, which must rotate queries and keys (not values) and leave the rest of attention as it was.

The starter docstring writes θ_i = 1/10000^(2(i-1)/dim) in one place and 10000^(2(i-1)/dim) in another; the
spec option `rope_inverted_frequencies_accepted` decides whether the inverted reading earns credit. Either
way it is named in the feedback.
"""
import functools

import torch
from hypothesis import example, given
from hypothesis import strategies as st

from graders.checks.compare import expect_close, matches, require_tensor
from graders.checks.modules import config, expect_causal, expect_forward, inputs, pair
from graders.problems import SubmissionProblem, about
from graders.spec import Tolerance
from graders_packs.cs224n.fixtures import attention_py
from graders_packs.cs224n.reference import attention as ref

__all__ = ["attention_py", "test_rope_cache", "test_rope_apply", "test_rope_attention", "test_rope_attention_causal",
           "test_rope_off_is_vanilla"]

# Not in the student kit (its checks run in the course autograder only): the bug variants below re-implement the
# reference (the cache, the rotation, the attention), and the module checks compare with reference nn.Modules.
KIT = "withheld"
# Sizes that all differ (graders/checks/sizes.py), run by each check whatever hypothesis draws besides.
UNAMBIGUOUS = dict(n_head=2, hs=4, block=16, B=3, T=5, seed=0)
INVERTED = "θ_i = 10000^(+2(i-1)/dim): the inverted frequencies of the starter docstring's sign slip"
# Angles reach max_positions rad; float32 holds them to ~1e-5, so the cache is compared with atol 1e-4.
CACHE_ATOL = 1e-4


def cache(dim, max_positions, sign=-1.0, offset=0, start=0):
    """The RoPE cache with the exponent's sign, the index offset or the first position changed, for naming a
    wrong cache."""
    i = torch.arange(0, dim, 2, dtype=torch.float64) + offset
    theta = 10000.0 ** (sign * i / dim)
    angles = torch.outer(torch.arange(start, start + max_positions, dtype=torch.float64), theta)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def rotate(x, rope_cache, halves=False, sign=1.0, from_end=False, swapped=False, halves_out=False):
    """apply_rotary_emb with one step changed: `swapped` takes x[2i+1] as the first of each pair (and writes
    the result back in that order), `halves_out` writes the rotated pairs back as two halves."""
    T, d = x.shape[-2], x.shape[-1]
    c = rope_cache[-T:] if from_end else rope_cache[:T]
    cos, sin = c[..., 0], sign * c[..., 1]
    if halves:
        a, b = x[..., :d // 2], x[..., d // 2:]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    even, odd = (x[..., 1::2], x[..., 0::2]) if swapped else (x[..., 0::2], x[..., 1::2])
    pairs = [even * cos - odd * sin, even * sin + odd * cos]
    return torch.cat(pairs, dim=-1) if halves_out else torch.stack(pairs, dim=-1).flatten(-2)


INVERTED_SHIFTED = ("θ_i = 10000^(+2(i-1)/dim) with i counted from 0: the starter docstring's inverted exponent, "
                    "and i - 1 taken on a 0-based index (the handout's i runs from 1 to dim/2)")
CACHE_BUGS = {
    INVERTED: lambda dim, n: cache(dim, n, sign=1.0),
    "cos and sin swapped in the last dimension": lambda dim, n: cache(dim, n).flip(-1),
    "θ_i = 10000^(-2i/dim): i counted from 1 instead of 0": lambda dim, n: cache(dim, n, offset=2),
    INVERTED_SHIFTED: lambda dim, n: cache(dim, n, sign=1.0, offset=-2),
    "θ_i = 10000^(-2(i-1)/dim) with i counted from 0: i - 1 taken on a 0-based index (the handout's i runs "
    "from 1 to dim/2)": lambda dim, n: cache(dim, n, offset=-2),
    "positions start at 1: the handout's t runs from 0 to max_positions - 1": lambda dim, n: cache(dim, n, start=1),
    f"positions start at 1 and {INVERTED}": lambda dim, n: cache(dim, n, sign=1.0, start=1),
}
# A bug is named only when it also explains a cache large enough to tell the bugs apart: at dim 2 there is a
# single θ, and an index off by one looks like an inverted exponent off by one the other way.
PROBE = (8, 4)  # four θ_i; positions few enough that float32 holds the inverted angles (< 400 rad)
COMPLEX_CACHE = ("a complex cache (torch.polar without torch.view_as_real): the handout's cache is real, of shape "
                 "(max_positions, dim/2, 2), cos then sin")
SWAPPED = "even/odd roles swapped: x[2i+1] rotated as the first of each pair, x[2i] as the second"
APPLY_BUGS = {
    "pairs (i, i + d/2) rotated (GPT-NeoX halves) instead of adjacent pairs (2i, 2i+1)":
        lambda x, c: rotate(x, c, halves=True),
    "rotation by -angle (the sin terms' signs flipped)": lambda x, c: rotate(x, c, sign=-1.0),
    "the last T positions of the cache used instead of the first T": lambda x, c: rotate(x, c, from_end=True),
    "cos and sin swapped": lambda x, c: rotate(x, c.flip(-1)),
    SWAPPED: lambda x, c: rotate(x, c, swapped=True),
    "the rotated pairs written back as two halves (all first elements, then all second ones) instead of "
    "interleaved in place": lambda x, c: rotate(x, c, halves_out=True),
    "x rounded to float16 before the rotation: keep x's dtype": lambda x, c: rotate(x.half().double(), c),
}


def readings(submission, dim, n):
    """The caches that earn credit: the handout's, and the inverted one where the spec accepts it."""
    caches = [cache(dim, n)]
    if submission.spec.options["rope_inverted_frequencies_accepted"]:
        caches.append(cache(dim, n, sign=1.0))
    return caches


@given(dim=st.sampled_from([2, 4, 8, 16, 64]), n=st.sampled_from([1, 7, 32, 128]))
def test_rope_cache(attention_py, submission, dim, n):
    call = f"precompute_rotary_emb({dim}, {n})"
    with about(f"dim={dim}, max_positions={n}", call):
        got = require_tensor(attention_py.precompute_rotary_emb(dim, n), call)
    tol = Tolerance(rtol=0, atol=CACHE_ATOL)
    expected = readings(submission, dim, n)
    if any(matches(got, e, tol) for e in expected[1:]):
        return
    probe = functools.cache(lambda: _probe(attention_py))
    bugs = [(name, lambda got, f=f: matches(got, f(dim, n), tol) and matches(probe(), f(*PROBE), tol))
            for name, f in CACHE_BUGS.items()]
    bugs.append((COMPLEX_CACHE, lambda got: got.is_complex() and matches(torch.view_as_real(got), expected[0], tol)))
    expect_close(got, expected[0], tol, what=call, case=f"dim={dim}, max_positions={n}", repro=call, bugs=bugs)


def _probe(attention_py):
    """The student's cache at PROBE, for telling cache bugs apart; an empty tensor (no bug's) if it fails."""
    try:
        return torch.as_tensor(attention_py.precompute_rotary_emb(*PROBE))
    except (SubmissionProblem, TypeError, RuntimeError):
        return torch.empty(0)


@given(B=st.integers(1, 3), h=st.integers(1, 3), T=st.integers(1, 20), half=st.sampled_from([1, 2, 4, 8]),
       seed=st.integers(0, 2**16))
@example(B=3, h=2, T=5, half=2, seed=0)
def test_rope_apply(attention_py, submission, B, h, T, half, seed):
    """apply_rotary_emb with the reference cache (so a wrong cache is judged by its own check)."""
    d, n = 2 * half, 24
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, h, T, d, generator=g)
    rope_cache = ref.precompute_rotary_emb(d, n)
    call = "apply_rotary_emb(x, rope_cache)"
    repro = (f"x = torch.randn({B}, {h}, {T}, {d}, generator=torch.Generator().manual_seed({seed})); "
             f"rope_cache = <the reference precompute_rotary_emb({d}, {n})>; {call}")
    case = f"x of shape ({B}, {h}, {T}, {d}), rope_cache of shape ({n}, {half}, 2)"
    with about(case, repro):
        got = attention_py.apply_rotary_emb(x, own_form(attention_py, submission, d, n, rope_cache))
    bugs = [(name, lambda _, f=f: f(x.double(), rope_cache.double())) for name, f in APPLY_BUGS.items()]
    expect_close(got, rotate(x.double(), rope_cache.double()), submission.tolerance("float32"), what=call,
                 case=case, repro=repro, bugs=bugs)


def own_form(attention_py, submission, d, n, rope_cache):
    """The reference cache in the form the student's own precompute_rotary_emb returns it: apply_rotary_emb is
    judged on its rotation, so a complex cache (which the cache check fails) does not cost apply's points too."""
    try:
        own = attention_py.precompute_rotary_emb(d, n)
    except SubmissionProblem:
        return rope_cache
    if isinstance(own, torch.Tensor) and own.is_complex() and tuple(own.shape) == (n, d // 2):
        submission.note("apply_rotary_emb was given the cache as complex numbers, as your precompute_rotary_emb "
                        "returns it")
        return torch.view_as_complex(rope_cache.contiguous())
    return rope_cache


def rope_forward(m, x, targets=("q", "k"), rope_cache=None, rotation=ref.apply_rotary_emb, causal=True):
    """CausalSelfAttention with RoPE on other tensors, another cache or rotation, for naming a wrong output."""
    T = x.shape[1]
    c = m.rope_cache if rope_cache is None else rope_cache.to(x.dtype)
    q, k, v = (ref.split(f(x), m.n_head) for f in (m.query, m.key, m.value))
    q, k, v = (rotation(t, c) if name in targets else t for name, t in zip("qkv", (q, k, v), strict=True))
    att = (q @ k.transpose(-2, -1)) / k.size(-1) ** 0.5
    att = torch.softmax(att.masked_fill(m.mask[:, :, :T, :T] == 0, -1e10) if causal else att, dim=-1)
    return m.proj(ref.merge(att @ v))


def module_bugs(hs, block):
    return {
        "RoPE applied to the queries and values instead of the queries and keys":
            lambda m, x: rope_forward(m, x, ("q", "v")),
        "RoPE applied to the queries only": lambda m, x: rope_forward(m, x, ("q",)),
        "RoPE applied to the keys only": lambda m, x: rope_forward(m, x, ("k",)),
        "RoPE never applied in forward": lambda m, x: rope_forward(m, x, ()),
        "no causal mask when RoPE is on: every token attends to the future":
            lambda m, x: rope_forward(m, x, causal=False),
        INVERTED: lambda m, x: rope_forward(m, x, rope_cache=cache(hs, block, sign=1.0)),
        INVERTED_SHIFTED: lambda m, x: rope_forward(m, x, rope_cache=cache(hs, block, sign=1.0, offset=-2)),
        "pairs (i, i + d/2) rotated (GPT-NeoX halves) instead of adjacent pairs (2i, 2i+1)":
            lambda m, x: rope_forward(m, x, rotation=lambda t, c: rotate(t, c, halves=True)),
        "rotation by -angle, or cos and sin swapped (the two give the same attention), or the even/odd roles "
        "swapped (x[2i+1] rotated as the first of each pair)":
            lambda m, x: rope_forward(m, x, rope_cache=cache(hs, block).flip(-1)),
    }


@st.composite
def shapes(draw, min_T=1):
    n_head = draw(st.sampled_from([1, 2, 4]))
    hs = draw(st.sampled_from([2, 4, 8]))
    block = draw(st.sampled_from([8, 16, 32]))
    return dict(n_head=n_head, hs=hs, block=block, B=draw(st.integers(1, 3)), T=draw(st.integers(min_T, block)),
                seed=draw(st.integers(0, 2**16)))


def rope_pair(attention_py, case, rope=True):
    cfg = config(case["n_head"] * case["hs"], case["n_head"], case["block"], rope=rope)
    return pair(attention_py, "CausalSelfAttention", ref.CausalSelfAttention, cfg, case["seed"], parameters_only=True)


@given(case=shapes())
@example(case=UNAMBIGUOUS)
def test_rope_attention(attention_py, submission, case):
    p = rope_pair(attention_py, case)
    x, line = inputs(case["B"], case["T"], case["n_head"] * case["hs"], case["seed"])
    if submission.spec.options.get("rope_inverted_frequencies_accepted"):
        inverted = cache(case["hs"], case["block"], sign=1.0)
        got = p.forward(x, "config.rope = True")
        accepted = p.reference.variants({INVERTED: lambda m, x: rope_forward(m, x, rope_cache=inverted)}, x)
        if matches(got, accepted[INVERTED], submission.tolerance("float32")):
            return
    tol = submission.tolerance("float32")
    expect_forward(p, x, line, tol, confirmed(attention_py, module_bugs(case["hs"], case["block"]), tol),
                   "config.rope = True")


# As for the cache, a module bug is named only when it also explains a case that tells the bugs apart: with a
# head size of 2 there is one θ, and a few positions rotate by angles that may round away.
MODULE_PROBE = dict(n_head=2, hs=8, block=8, B=1, T=8, seed=0)


def confirmed(attention_py, bugs, tol):
    """`bugs` (as for expect_forward) each with an output of no shape unless it explains MODULE_PROBE too."""
    @functools.cache
    def probe():
        p = rope_pair(attention_py, MODULE_PROBE)
        x, _ = inputs(MODULE_PROBE["B"], MODULE_PROBE["T"], MODULE_PROBE["n_head"] * MODULE_PROBE["hs"], 0)
        return p, x, p.forward(x, "config.rope = True")

    def explains(name):
        p, x, got = probe()
        bug = {name: module_bugs(MODULE_PROBE["hs"], MODULE_PROBE["block"])[name]}
        return matches(got, p.reference.variants(bug, x)[name], tol)

    return {name: lambda m, x, name=name, f=f: f(m, x) if explains(name) else torch.empty(0)
            for name, f in bugs.items()}


@given(case=shapes(min_T=2))
@example(case=UNAMBIGUOUS)
def test_rope_attention_causal(attention_py, submission, case):
    p = rope_pair(attention_py, case)
    x, line = inputs(case["B"], case["T"], case["n_head"] * case["hs"], case["seed"])
    expect_causal(lambda x: p.forward(x, "causality"), [x], case["T"] // 2 - 1, submission.tolerance("float32"),
                  f"x of shape {tuple(x.shape)}", f"{p.repro}; {line}; m(x)")


@given(case=shapes())
@example(case=UNAMBIGUOUS)
def test_rope_off_is_vanilla(attention_py, submission, case):
    """With config.rope = False, CausalSelfAttention is the given minGPT attention, unchanged."""
    p = rope_pair(attention_py, case, rope=False)
    x, line = inputs(case["B"], case["T"], case["n_head"] * case["hs"], case["seed"])
    rotated = {"RoPE applied although config.rope is False":
               lambda m, x: rope_forward(m, x, rope_cache=cache(case["hs"], case["block"]))}
    expect_forward(p, x, line, submission.tolerance("float32"), rotated, "config.rope = False")
