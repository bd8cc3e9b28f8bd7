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
from graders_packs.cs224n.rope_bugs import APPLY_BUGS, CACHE_BUGS, INVERTED, MODULE_BUGS, ROPE_WHEN_OFF, cache, rotate

__all__ = ["attention_py", "test_rope_cache", "test_rope_apply", "test_rope_attention", "test_rope_attention_causal",
           "test_rope_off_is_vanilla"]

# Sizes that all differ (graders/checks/sizes.py), run by each check whatever hypothesis draws besides.
UNAMBIGUOUS = dict(n_head=2, hs=4, block=16, B=3, T=5, seed=0)
# Angles reach max_positions rad; float32 holds them to ~1e-5, so the cache is compared with atol 1e-4.
CACHE_ATOL = 1e-4
# A cache bug is named when it explains the student's cache at PROBE, which tells the bugs apart (at dim 2 there is
# a single θ, and an index off by one looks like an inverted exponent off by one the other way), and gives the
# failing cache's shape. The failing input itself cannot show it: at dim 16 and 128 positions an inverted
# exponent's angles reach 4e5 rad, which float32 holds only to ~0.03.
PROBE = (8, 4)  # four θ_i; positions few enough that float32 holds the inverted angles (< 400 rad)
COMPLEX_CACHE = ("a complex cache (torch.polar without torch.view_as_real): the handout's cache is real, of shape "
                 "(max_positions, dim/2, 2), cos then sin")


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
    bugs = [(name, lambda got, f=f: got.shape == f(dim, n).shape and matches(probe(), f(*PROBE), tol))
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
    tol = submission.tolerance("float32")
    if submission.spec.options.get("rope_inverted_frequencies_accepted"):
        got = p.forward(x, "config.rope = True")
        if matches(got, p.reference.variants(MODULE_BUGS, x)[INVERTED], tol):
            return
    expect_forward(p, x, line, tol, MODULE_BUGS, "config.rope = True", confirm=explains(attention_py, tol))


# As for the cache, a module bug is named only when it also explains a case that tells the bugs apart: with a
# head size of 2 there is one θ, and a few positions rotate by angles that may round away.
MODULE_PROBE = dict(n_head=2, hs=8, block=8, B=1, T=8, seed=0)


def explains(attention_py, tol):
    """explains(name): whether the module bug `name` also gives the student's output on MODULE_PROBE."""
    @functools.cache
    def probe():
        p = rope_pair(attention_py, MODULE_PROBE)
        x, _ = inputs(MODULE_PROBE["B"], MODULE_PROBE["T"], MODULE_PROBE["n_head"] * MODULE_PROBE["hs"], 0)
        return p.forward(x, "config.rope = True"), p.reference.variants(MODULE_BUGS, x)

    def explained(name):
        got, variants = probe()
        return name in variants and matches(got, variants[name], tol)
    return explained


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
    expect_forward(p, x, line, submission.tolerance("float32"), ROPE_WHEN_OFF, "config.rope = False")
