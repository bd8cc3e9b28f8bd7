"""Checks for A2S2.py.

Each function is checked on its own, so feedback points at the broken step; then self_attention is compared
with torch's multi_head_attention_forward (the course's MHA_wrapper) well past the handout's single
10-token example. Expected values are computed in float64 from the same inputs.

A property check must not be passable by an output that ignores its input (zeros, a uniform distribution,
a cached tensor): each one also checks that the output responds to the input the way attention does.

Softmax ignores a constant added to a row of scores, however large; torch's stays finite there, so the softmax
and self_attention checks also shift rows far past exp's range (inf above ~88 in float32, ~709 in float64).
"""
import math
from dataclasses import replace

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from graders.checks.compare import close, diagnose, matches, require_tensor
from graders.checks.feedback import Feedback
from graders.checks.inputs import DTYPES, UNAMBIGUOUS, Case, cases, draw
from graders.checks.probe import Probe, call, probe
from graders.problems import CheckFailed, LimitExceeded, SubmissionProblem, about
from graders.spec import Tolerance
from graders_packs.uw_cse447_a2 import bugs
from graders_packs.uw_cse447_a2.reference import a2s2 as ref

FILL_LIMIT = -1e4  # a masked score at or below this gets softmax weight exactly 0 in float32 and float64
MASK_SIZES = range(1, 65)
EXACT = Tolerance(rtol=0, atol=0)
SHIFTS = (0.0, 1e3, 1e4, 1e5)  # added to scores' rows: each overflows exp in float32 and float64
KEY_SHIFTS = (0.0, 1e3, 1e4)   # added to every key feature: scores move by about as much times sum(q) / sqrt(d)


@pytest.fixture
def a2s2(submission):
    return submission.module("A2S2.py")


def variants(table, *inputs):
    """(name, fn) pairs for diagnose and expect_close from a table of buggy steps ({name: f} or [(name, f)])
    applied to `inputs`."""
    return [(name, lambda got, f=f: f(*inputs)) for name, f in (table.items() if isinstance(table, dict) else table)]


def fail(summary, case=None, repro=None, details=(), bug=None):
    raise CheckFailed(Feedback(summary, case, list(details), bug, repro))


def at_scale(tol, dtype, magnitude):
    """`tol` widened by eps * magnitude, for results of scores up to `magnitude`: the scores are known only to
    that much in `dtype`, and a softmax that is right in floating point may move each probability by that much
    relative. Measured: torch's and a max-subtracting softmax stay within the plain tolerance,
    exp(A - torch.logsumexp(A)) within a fifth of the widening, self_attention within 0.3 of it (magnitude
    there being the largest |q|·|k| / sqrt(d) times the largest |v|)."""
    return Tolerance(rtol=tol.rtol, atol=tol.atol + torch.finfo(DTYPES[dtype]).eps * magnitude)


def keeps_float64(p, case):
    """float64 in, float64 out: a float32 result rounds away the precision the caller asked for."""
    got = require_tensor(p.got, p.call)
    if case.dtype == "float64" and got.dtype != torch.float64:
        fail(f"{p.call} returned {got.dtype} for float64 inputs: keep float64, as torch's functions do", p.case,
             p.repro)


def own_tolerance(submission, case, got):
    """For comparing a student's outputs with each other: float32's when they came back float32 (the checks
    against torch charge that, once), else the input dtype's."""
    return submission.tolerance("float32" if got.dtype == torch.float32 else case.dtype)


# Step 1: raw scores, scaling, softmax, outputs.

@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_pairwise_similarities(a2s2, submission, case):
    p = probe(a2s2, "pairwise_similarities", case, {"Q": case.heads, "K": case.heads})
    Q, K = p.inputs.values()
    p.expect(ref.pairwise_similarities(Q, K), submission.tolerance(case.dtype), variants(bugs.PAIRWISE, Q, K))


@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_attn_scaled(a2s2, submission, case):
    p = probe(a2s2, "attn_scaled", case, {"A": case.scores}, case.E, case.n_heads)
    A = p.inputs["A"]
    p.expect(ref.attn_scaled(A, case.E, case.n_heads), submission.tolerance(case.dtype),
             variants(bugs.SCALE, A, case.E, case.n_heads))


def softmax_of_shifted(a2s2, case, shift, causal=False):
    """attn_softmax on seeded scores whose query rows are raised by `shift`, lowered by it, raised, ... (each
    row's softmax stays the same), and with -inf above the diagonal when `causal`."""
    tensors, line = draw({"A": case.scores}, case.seed, case.dtype)
    T, notes = case.T, []
    if shift:
        tensors["A"] = tensors["A"] + shift * (1 - 2 * (torch.arange(T) % 2)).view(T, 1)
        line += f"; A = A + {shift!r} * (1 - 2 * (torch.arange({T}) % 2)).view({T}, 1)"
        notes.append(f"query rows shifted by +{shift:g}, -{shift:g}, +{shift:g}, ...")
    if causal:
        tensors["A"] = tensors["A"].masked_fill(torch.arange(T).view(-1, 1) < torch.arange(T), float("-inf"))
        line += f"; A = A.masked_fill(torch.arange({T}).view(-1, 1) < torch.arange({T}), float('-inf'))"
        notes.append("-inf above the diagonal")
    return call(a2s2, "attn_softmax", case, tensors, line, note=", ".join(notes) or None)


def largest(A):
    """The largest finite |score|."""
    return A[torch.isfinite(A)].abs().max().item()


def unstable(A, case):
    """The softmaxes that overflow on large scores, run on A in the student's dtype, where they overflow."""
    return variants(bugs.UNSTABLE, A.to(DTYPES[case.dtype]))


@given(case=cases(max_T=16), shift=st.sampled_from(SHIFTS))
@example(case=UNAMBIGUOUS, shift=0.0)
def test_attn_softmax(a2s2, submission, case, shift):
    """Softmax over the last dim, also of rows shifted far past exp's range; float64 stays float64."""
    p = softmax_of_shifted(a2s2, case, shift)
    A, tol = p.inputs["A"], submission.tolerance(case.dtype)
    keeps_float64(p, case)
    p.expect(ref.attn_softmax(A), at_scale(tol, case.dtype, largest(A)) if shift else tol,
             variants(bugs.SOFTMAX, A) + (unstable(A, case) if shift else []))


def rows_are_distributions(P, tol):
    """The first row of P (as an index) that is not a probability distribution, or None."""
    sums = P.double().sum(-1)
    bad = ~close(sums, torch.ones_like(sums), tol) | (P < 0).any(-1)
    return tuple(bad.nonzero()[0].tolist()) if bad.any() else None


@given(case=cases(max_T=16, min_T=2), shift=st.sampled_from(SHIFTS))
@example(case=replace(UNAMBIGUOUS, causal=False), shift=0.0)
def test_attn_softmax_rows_sum_to_one(a2s2, submission, case, shift):
    """Rows are finite distributions that keep the order of the scores (so a constant output does not pass), also
    with rows shifted far past exp's range, and (causal cases) with -inf scores, whose probability is exactly 0."""
    p = softmax_of_shifted(a2s2, case, shift, case.causal)
    P, A = require_tensor(p.got, p.call), p.inputs["A"]
    if P.shape != case.scores or not P.is_floating_point():
        fail(f"{p.call} has shape {tuple(P.shape)} and dtype {P.dtype}, expected {case.scores}", p.case, p.repro)
    tol = submission.tolerance(case.dtype)
    tol = at_scale(tol, case.dtype, largest(A)) if shift else tol
    if not torch.isfinite(P).all():
        pos = tuple((~torch.isfinite(P)).nonzero()[0].tolist())
        fail(f"{p.call} is {P[pos].item()} at {list(pos)}: probabilities must be finite, as torch.softmax's are",
             p.case, p.repro, bug=diagnose(P, unstable(A, case), tol))
    leaked = (P != 0) & (A == float("-inf"))
    if leaked.any():
        pos = tuple(leaked.nonzero()[0].tolist())
        fail(f"{p.call} gives probability {P[pos].item():.3g} to the -inf score at {list(pos)}; it must be exactly 0",
             p.case, p.repro)
    row = rows_are_distributions(P, tol)
    if row is not None:
        fail(f"{p.call}: row {list(row)} sums to {P[row].double().sum().item():.6g}, not 1 (or has negative "
             "entries)", p.case, p.repro)
    ranked = P.double().gather(-1, A.argsort(-1))
    spread = A.amax(-1) > A.amin(-1)  # float32 may round a row's shifted scores to one value
    if ((ranked[..., 1:] - ranked[..., :-1]) < -tol.atol).any() or (ranked[..., -1] <= ranked[..., 0])[spread].any():
        fail(f"{p.call}: a higher score must get a higher probability in every row", p.case, p.repro)


@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_compute_outputs(a2s2, submission, case):
    p = probe(a2s2, "compute_outputs", case, {"A": case.scores, "V": case.heads})
    A, V = p.inputs.values()
    p.expect(ref.compute_outputs(A, V), submission.tolerance(case.dtype), variants(bugs.OUTPUTS, A, V))


# Step 2: the causal mask.
#
# Students write the mask in either polarity: True/1 where a query may attend (the handout's tril), or True where
# it may not (torch's attn_mask, which the handout's MHA_wrapper uses), or an additive 0/-inf float mask. Each is
# right when make_causal_mask and apply_causal_mask agree on it, so make_causal_mask is judged in every reading
# and apply_causal_mask with the mask it is given (docs/conventions.md).

KEEP, DROP = "keep", "drop"  # readings of a mask: its nonzero entries allow attention, or its zero entries do


def allowed(mask, reading):
    """Where `mask` allows attention in `reading`."""
    return mask != 0 if reading == KEEP else mask == 0


def describe(mask, reading):
    """The convention of `mask` read as `reading`, in words."""
    if mask.dtype == torch.bool:
        return "a bool mask, True where a query may attend" if reading == KEEP else \
            "a bool mask, True where attention is forbidden (torch's attn_mask convention)"
    if reading == KEEP:
        return "a 0/1 float mask, 1 where a query may attend"
    if bool((mask < 0).any()):
        return "an additive float mask: 0 where a query may attend, a large negative number elsewhere"
    return "a 0/1 float mask, 1 where attention is forbidden"


def right_readings(masks):
    """The readings in which every mask of `masks` ({n: make_causal_mask(n)}) allows exactly the lower triangle."""
    return [r for r in (KEEP, DROP)
            if all(torch.equal(allowed(m, r), ref.make_causal_mask(n)) for n, m in masks.items())]


def student_mask(a2s2, n, got=None):
    """make_causal_mask(n) as a tensor; `got` is its result when it was already asked for."""
    with about(f"n_tok={n}", f"make_causal_mask({n})"):
        return require_tensor(a2s2.make_causal_mask(n) if got is None else got, f"make_causal_mask({n})")


def ahead(fn, arguments, **kwargs):
    """Every call of `fn` in one round trip, or None when one fails, so the caller asks one call at a time
    and reports exactly what it would have reported otherwise (a limit still ends the check)."""
    try:
        return fn.each(arguments, **kwargs)
    except LimitExceeded:
        raise
    except SubmissionProblem:
        return None


def causal_masks(a2s2):
    """{n: make_causal_mask(n)} for sizes 1 up to the first that fails or has the wrong shape, and that failure
    (a CheckFailed to raise once the masks before it are judged) or None."""
    asked, masks = ahead(a2s2.make_causal_mask, [(n,) for n in MASK_SIZES]), {}
    for i, n in enumerate(MASK_SIZES):
        try:
            mask = student_mask(a2s2, n, asked and asked[i])
        except SubmissionProblem as e:
            if n == 1:
                raise
            return masks, broken_at(n, f"make_causal_mask({n}) failed: {e}")
        if mask.shape != (n, n):
            return masks, broken_at(n, f"make_causal_mask({n}) has shape {tuple(mask.shape)}, expected ({n}, {n})")
        masks[n] = mask
    return masks, None


def broken_at(n, summary):
    """make_causal_mask's failure at size n; past size 1, smaller sizes ran: a mask built for a fixed size."""
    fixed = f"mask of a fixed size: correct up to n_tok={n - 1}, wrong for n_tok={n}" if n > 1 else None
    return CheckFailed(Feedback(summary, f"n_tok={n}", repro=f"make_causal_mask({n})", bug=fixed))


def test_make_causal_mask(a2s2, submission):
    """Sizes 1 to 64, so a mask built for the handout's 10 tokens is caught; right in either polarity."""
    masks, failure = causal_masks(a2s2)
    readings = right_readings(masks)
    if not readings:
        wrong_mask(masks, apply_reading(a2s2, submission.tolerance("float32")) or default_reading(masks[max(masks)]))
    if failure:
        raise failure
    submission.note(f"make_causal_mask gives {describe(masks[max(masks)], readings[0])}")


def wrong_mask(masks, reading):
    """Fail at the first size where the mask is wrong in `reading`, naming the bug."""
    for n, mask in masks.items():
        got, expected = allowed(mask, reading), ref.make_causal_mask(n)
        if not torch.equal(got, expected):
            row, col = (got != expected).nonzero()[0].tolist()
            verb = "allows" if got[row, col] else "forbids"
            bug = diagnose(got, variants(bugs.MASK, n), EXACT)
            fail(f"make_causal_mask({n}), read as {describe(mask, reading)}, {verb} query {row} attending to key "
                 f"{col}", f"n_tok={n}", f"make_causal_mask({n})",
                 [f"Expected allowed on and below the diagonal:\n{expected.int()}", f"Got:\n{mask}"]
                 if n <= 6 else [], bug)


def default_reading(mask):
    """How a mask is read when apply_causal_mask follows no convention: a float mask with negative entries is
    additive, any other nonzero entries allow attention."""
    return DROP if mask.is_floating_point() and bool((mask < 0).any()) else KEEP


def apply_reading(a2s2, tol, n=4):
    """The reading of the first convention that apply_causal_mask gets right, or None: how the student's
    make_causal_mask is meant to be read."""
    case = Case(T=n)
    for build, text, reading in CONVENTIONS:
        try:
            p = apply_mask(a2s2, case, build(n), text.format(n=n))
        except SubmissionProblem:
            continue
        if matches(fill_to_inf(p.got), expected_masked(p), tol):
            return reading
    return None


# The masks make_causal_mask may return: apply_causal_mask is judged with the student's own mask when their
# make_causal_mask is right, and otherwise with each of these (it passes if it is right with one of them). Their
# reproduce lines compare positions rather than spell make_causal_mask's one-line answer: the kit ships this file.
CONVENTIONS = [
    (ref.make_causal_mask, "torch.arange({n}).view(-1, 1) >= torch.arange({n})", KEEP),
    (lambda n: ref.make_causal_mask(n).float(), "(torch.arange({n}).view(-1, 1) >= torch.arange({n})).float()", KEEP),
    (lambda n: ~ref.make_causal_mask(n), "torch.arange({n}).view(-1, 1) < torch.arange({n})", DROP),
    (lambda n: torch.zeros(n, n).masked_fill(~ref.make_causal_mask(n), float("-inf")),
     "torch.zeros({n}, {n}).masked_fill(torch.arange({n}).view(-1, 1) < torch.arange({n}), float('-inf'))", DROP),
    (lambda n: (~ref.make_causal_mask(n)).float(), "torch.triu(torch.ones({n}, {n}), diagonal=1)", DROP),
]


def masks_for_apply(a2s2, n):
    """(mask, how to build it, its convention in words) to call apply_causal_mask with: the student's own
    make_causal_mask(n) when it is right in a reading that also holds at size 2 (at size 1 every mask is right
    in one), else CONVENTIONS."""
    try:
        sizes = {m: student_mask(a2s2, m) for m in sorted({n, max(n, 2)})}
        readings = right_readings(sizes) if all(m.shape == (k, k) for k, m in sizes.items()) else []
        if readings:
            return [(sizes[n], f"make_causal_mask({n})", describe(sizes[max(sizes)], readings[0]))]
    except SubmissionProblem:  # a broken make_causal_mask is judged by its own check
        pass
    return [(build(n), text.format(n=n), describe(build(2), reading)) for build, text, reading in CONVENTIONS]


def fill_to_inf(t):
    """Masked scores at or below FILL_LIMIT count as -inf."""
    return t.masked_fill(t <= FILL_LIMIT, float("-inf")) if t.is_floating_point() else t


def apply_mask(a2s2, case, mask, mask_text):
    """apply_causal_mask on seeded (B, T, T) or (B, h, T, T) scores, the last query's all 0 when T > 1: a genuine
    score of 0 must stay, which the masked_fill(A == 0, -inf) bug does not let it (at T = 1 that bug and an
    inverted mask would give the same [[-inf]])."""
    shape = case.scores if case.n_heads > 1 else (case.B, case.T, case.T)
    tensors, line = draw({"A": shape}, case.seed, case.dtype)
    described = f"A of shape {shape}, {case.dtype}, seed {case.seed}"
    if case.T > 1:
        tensors["A"][..., -1, :] = 0
        line += "; A[..., -1, :] = 0"
        described += ", the last query's scores all 0"
    call = "apply_causal_mask(mask, A)"
    described = f"{call} with mask = {mask_text}, {described}"
    repro = f"{line}; mask = {mask_text}; {call}"
    with about(described, repro):
        got = require_tensor(a2s2.apply_causal_mask(mask, tensors["A"]), call)
    return Probe(got, {"A": tensors["A"].double()}, call, described, repro)


def expected_masked(p):
    A = p.inputs["A"]
    return ref.apply_causal_mask(ref.make_causal_mask(A.shape[-1]), A)


def masked_scores(a2s2, submission, case, tol):
    """The call with the first mask where apply_causal_mask is right (noting which), else the first that ran."""
    ran, error = [], None
    for mask, text, words in masks_for_apply(a2s2, case.T):
        try:
            p = apply_mask(a2s2, case, mask, text)
        except SubmissionProblem as e:
            error = error or e
            continue
        expected = expected_masked(p)
        if matches(fill_to_inf(p.got), expected, tol):
            submission.note(f"apply_causal_mask was given mask = {text}, {words}")
            return p, expected
        ran.append(p)
    if not ran:
        raise error
    return ran[0], expected_masked(ran[0])


@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_apply_causal_mask(a2s2, submission, case):
    tol = submission.tolerance(case.dtype)
    p, expected = masked_scores(a2s2, submission, case, tol)
    p.got = fill_to_inf(p.got)
    p.expect(expected, tol, variants(bugs.APPLY, ref.make_causal_mask(case.T), p.inputs["A"]))


def apply_bug(p, tol):
    """The known apply_causal_mask bug whose masked scores `p` got, or None."""
    A = p.inputs["A"]
    return diagnose(fill_to_inf(p.got), variants(bugs.APPLY, ref.make_causal_mask(A.shape[-1]), A), tol)


@given(case=cases(max_T=16, min_T=2))
@example(case=UNAMBIGUOUS)
def test_masked_probabilities_are_zero(a2s2, submission, case):
    """softmax(apply_causal_mask(make_causal_mask(T), A)): every forbidden probability is exactly 0."""
    tol = submission.tolerance(case.dtype)
    p, expected = masked_scores(a2s2, submission, case, tol)
    with about(p.case, f"{p.repro}; attn_softmax(_)"):
        P = require_tensor(a2s2.attn_softmax(p.got), "attn_softmax")
    forbidden = ~ref.make_causal_mask(case.T)
    if P.shape != expected.shape or not P.is_floating_point():
        fail(f"attn_softmax({p.call}) has shape {tuple(P.shape)} and dtype {P.dtype}", p.case, p.repro)
    leaked = (P != 0) & forbidden
    if leaked.any():
        pos = tuple(leaked.nonzero()[0].tolist())
        if matches(fill_to_inf(p.got), expected, tol):  # the scores were masked right: the softmax leaks
            bug = diagnose(P, variants(bugs.SOFTMAX, expected), tol)
        else:
            bug = apply_bug(p, tol)
        fail(f"attn_softmax({p.call}) gives probability {P[pos].item():.3g} to query {pos[-2]} attending to "
             f"future key {pos[-1]}; masked probabilities must be exactly 0", p.case, f"{p.repro}; attn_softmax(_)",
             bug=bug)
    starved = ~(P > 0) & ~forbidden
    if starved.any():
        pos = tuple(starved.nonzero()[0].tolist())
        fail(f"attn_softmax({p.call}) gives probability {P[pos].item():.3g} to query {pos[-2]} attending to "
             f"key {pos[-1]}, which it may attend to; allowed keys must get a positive probability", p.case,
             f"{p.repro}; attn_softmax(_)", bug=apply_bug(p, tol))


# Step 3: heads.

@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_split_heads(a2s2, submission, case):
    p = probe(a2s2, "split_heads", case, {"x": case.tokens}, case.n_heads)
    x = p.inputs["x"]
    p.expect(ref.split_heads(x, case.n_heads), submission.tolerance(case.dtype), variants(bugs.SPLIT, x, case.n_heads))


@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_split_heads_slices(a2s2, submission, case):
    """Head i of split_heads(x) is x[:, :, i*d:(i+1)*d]."""
    p = probe(a2s2, "split_heads", case, {"x": case.tokens}, case.n_heads)
    got, x, d = require_tensor(p.got, p.call), p.inputs["x"], case.head_dim
    if got.shape != case.heads:
        fail(f"{p.call} has shape {tuple(got.shape)}, expected {case.heads}", p.case, p.repro)
    for i in range(case.n_heads):
        if not torch.equal(got[:, i].double(), x[:, :, i * d:(i + 1) * d]):
            fail(f"{p.call}[:, {i}] is not x[:, :, {i * d}:{(i + 1) * d}]: head {i} must hold its own slice of "
                 "the embedding for every token", p.case, p.repro,
                 bug=diagnose(got, variants(bugs.SPLIT, x, case.n_heads), EXACT))


@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_merge_heads(a2s2, submission, case):
    p = probe(a2s2, "merge_heads", case, {"y": case.heads})
    y = p.inputs["y"]
    p.expect(ref.merge_heads(y), submission.tolerance(case.dtype), variants(bugs.MERGE, y))


@given(case=cases(max_T=16))
@example(case=UNAMBIGUOUS)
def test_split_merge_round_trip(a2s2, case):
    split = probe(a2s2, "split_heads", case, {"x": case.tokens}, case.n_heads)
    repro = f"{split.repro}; merge_heads(_)"
    with about(split.case, repro):
        back = require_tensor(a2s2.merge_heads(require_tensor(split.got, split.call)), "merge_heads")
    x = split.inputs["x"]
    if back.shape != case.tokens or not torch.equal(back.double(), x):
        expected = ref.split_heads(x, case.n_heads)
        split_right = split.got.shape == expected.shape and torch.equal(split.got.double(), expected)
        fail(f"merge_heads({split.call}) does not give x back", split.case, repro,
             bug="merge_heads does not undo split_heads" if split_right else
             "split_heads is wrong (see its checks), so merge_heads cannot undo it")


# self_attention against torch, and its properties.

def attention(a2s2, case, key_shift=0.0):
    """self_attention on seeded Q, K, V, the last query of batch row 0 all zeros (its scores are exactly 0, which
    the masked_fill(A == 0, -inf) bug turns into a row of -inf). `key_shift` added to every key feature shifts
    each query's scores by one constant (q·(k + c) = q·k + c·sum(q)), which must change nothing however large
    it is."""
    tensors, line = draw(dict.fromkeys("QKV", case.tokens), case.seed, case.dtype)
    tensors["Q"][0, -1] = 0
    line += "; Q[0, -1] = 0"
    notes = ["the last query of batch row 0 all zeros"]
    if key_shift:
        tensors["K"] = tensors["K"] + key_shift
        line += f"; K = K + {key_shift!r}"
        notes.append(f"every key feature raised by {key_shift:g}")
    return call(a2s2, "self_attention", case, tensors, line, kwargs={"n_heads": case.n_heads, "causal": case.causal},
                note=", ".join(notes))


def score_bound(Q, K, n_heads):
    """The largest |q|·|k| / sqrt(d) over heads, which rounding Q·Kᵀ in floating point scales with."""
    B, T, E = Q.shape
    q, k = (x.abs().view(B, T, n_heads, E // n_heads).transpose(1, 2) for x in (Q, K))
    return torch.einsum("bhid,bhjd->bhij", q, k).max().item() / math.sqrt(E // n_heads)


def expect_torch(p, case, tol, key_shift=0.0):
    args = (*p.inputs.values(), case.n_heads, case.causal)
    row_zero = (bugs.ONLY_ROW_ZERO, lambda got: only_row_zero(got, ref.self_attention(*args)))
    named = variants(bugs.ATTENTION, *args) + [row_zero]
    if key_shift:
        Q, K, V = p.inputs.values()
        tol = at_scale(tol, case.dtype, score_bound(Q, K, case.n_heads) * V.abs().max().item())
        named += variants(bugs.UNSTABLE_ATTENTION, *(x.to(DTYPES[case.dtype]) for x in (Q, K, V)), case.n_heads,
                          case.causal)
    keeps_float64(p, case)
    p.expect(ref.torch_attention(*args), tol, named)


def only_row_zero(got, expected):
    """Whether batch row 0 alone is right."""
    if got.shape != expected.shape or got.shape[0] < 2:
        return False
    rows = [torch.allclose(got[b].double(), expected[b], atol=1e-4, rtol=1e-4) for b in range(got.shape[0])]
    return rows[0] and not any(rows[1:])


# Explicit examples run first, in order, and one that fails is reported unshrunk: list them smallest first.
@given(case=cases(max_heads=1, max_head_dim=16))
@example(case=Case(B=2, T=11, n_heads=1, head_dim=6, causal=True))
def test_self_attention_single_head(a2s2, submission, case):
    expect_torch(attention(a2s2, case), case, submission.tolerance(case.dtype))


@given(case=cases(), key_shift=st.sampled_from(KEY_SHIFTS))
@example(case=Case(B=2, T=12, n_heads=2, head_dim=3, causal=True), key_shift=0.0)
@example(case=Case(B=3, T=17, n_heads=4, head_dim=2, causal=False, dtype="float64"), key_shift=0.0)
@example(case=Case(B=4, T=64, n_heads=8, head_dim=8, causal=True), key_shift=0.0)
def test_self_attention_multi_head(a2s2, submission, case, key_shift):
    """Against torch, also with keys offset far enough that the scores leave exp's range."""
    expect_torch(attention(a2s2, case, key_shift), case, submission.tolerance(case.dtype), key_shift)


@given(case=cases(min_T=2, max_T=24, causal=st.just(True)), cut=st.floats(0, 1))
@example(case=UNAMBIGUOUS, cut=0.0)
def test_self_attention_causality(a2s2, submission, case, cut):
    """Replacing every token after position t changes no output at or before t; replacing them all does."""
    t = min(int(cut * (case.T - 1)), case.T - 2)
    p = attention(a2s2, case)
    before = require_tensor(p.got, p.call)
    future, _ = draw(dict.fromkeys("QKV", case.tokens), case.seed + 1, case.dtype)
    mixed = [torch.cat([x[:, :t + 1].to(DTYPES[case.dtype]), future[n][:, t + 1:]], 1) for n, x in p.inputs.items()]
    with about(p.case, f"{p.repro}  # then every token after {t} replaced"):
        after = require_tensor(a2s2.self_attention(*mixed, n_heads=case.n_heads, causal=True), p.call)
    if before.shape != case.tokens or after.shape != case.tokens:
        fail(f"{p.call} has shape {tuple(before.shape)}, expected {case.tokens}", p.case, p.repro)
    with about(p.case, f"{p.repro}  # then every token replaced"):
        other = require_tensor(a2s2.self_attention(*future.values(), n_heads=case.n_heads, causal=True), p.call)
    tol = own_tolerance(submission, case, before)
    if other.shape == before.shape and close(other, before, tol, equal_nan=True).all():
        fail(f"{p.call}: the output stayed the same when every token changed: it does not depend on the input",
             p.case, p.repro)
    ok = close(after[:, :t + 1], before[:, :t + 1], tol, equal_nan=True)
    if not ok.all():
        b, pos, e = (~ok).nonzero()[0].tolist()
        fail(f"{p.call} at token {pos} changed when only tokens after {t} changed: the output sees the future",
             p.case, p.repro, [f"batch row {b}, feature {e}: {before[b, pos, e].item():.6g} became "
                               f"{after[b, pos, e].item():.6g}"])


@given(case=cases(min_B=2, min_T=2, max_T=24))
@example(case=UNAMBIGUOUS)
def test_self_attention_batch_rows_independent(a2s2, submission, case):
    """Each batch row's output equals attending that row alone."""
    p = attention(a2s2, case)
    whole = require_tensor(p.got, p.call)
    if whole.shape != case.tokens:
        fail(f"{p.call} has shape {tuple(whole.shape)}, expected {case.tokens}", p.case, p.repro)
    tol = own_tolerance(submission, case, whole)
    finite = torch.isfinite(whole[0]) & torch.isfinite(whole[1])
    if not (~close(whole[0], whole[1], tol) & finite).any():
        fail(f"{p.call}: batch rows 0 and 1 got the same output from different inputs", p.case, p.repro,
             bug=bugs.ONLY_ROW_ZERO)
    rows = [tuple(x[b:b + 1].to(DTYPES[case.dtype]) for x in p.inputs.values()) for b in range(case.B)]
    alones = ahead(a2s2.self_attention, rows, n_heads=case.n_heads, causal=case.causal)
    for b, row in enumerate(rows):
        with about(p.case, f"{p.repro}; self_attention(Q[{b}:{b + 1}], K[{b}:{b + 1}], V[{b}:{b + 1}], ...)"):
            alone = require_tensor(alones[b] if alones else
                                   a2s2.self_attention(*row, n_heads=case.n_heads, causal=case.causal), p.call)
        if alone.shape != (1,) + case.tokens[1:] or not close(alone[0], whole[b], tol, equal_nan=True).all():
            fail(f"{p.call}: batch row {b} differs from attending row {b} alone", p.case, p.repro,
                 bug=bugs.ONLY_ROW_ZERO if b else None)
