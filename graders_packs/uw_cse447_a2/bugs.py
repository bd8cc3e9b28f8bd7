"""Known A2S2 bugs as variants of the reference. A student's wrong output that equals one is named by it.

Each table maps a bug's name to a buggy version of one step; `attention` runs the reference pipeline with
one step swapped, so the self_attention checks can name the step a wrong output comes from. A bug may have
several forms (a -inf or a finite fill), so the pipeline table is a list of (name, variant) pairs.
Every variant is a function of the grader's inputs alone, so a student kit can replay recorded outputs.
"""
import math
from functools import partial

import torch

from graders_packs.uw_cse447_a2.reference import a2s2 as ref

# Derived from the reference: the student kit ships outputs recorded from this module, not its code.
KIT = "recorded"
FINITE_FILL = -1e9


def _tril_without_diagonal(n):
    return torch.tril(torch.ones(n, n, dtype=torch.bool), diagonal=-1)


def _upper(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool))


def _finite_fill(mask, A):
    return A.masked_fill(mask == 0, FINITE_FILL)


def _zeros_masked(mask, A):
    """Multiply by the mask, then send every 0 to -inf: genuine scores of exactly 0 go too."""
    A = A * mask
    return A.masked_fill(A == 0, float("-inf"))


SCALED_BY_EMBD = "scaled by sqrt(n_embd) instead of sqrt(n_embd / n_heads)"
SCALE = {
    SCALED_BY_EMBD: lambda A, E, h: A / math.sqrt(E),
    "not scaled by sqrt(n_embd / n_heads)": lambda A, E, h: A,
    "multiplied by sqrt(n_embd / n_heads) instead of dividing": lambda A, E, h: A * math.sqrt(E / h),
}
PAIRWISE = {"computes Kᵀ·Q (K @ Q.T) instead of Q·Kᵀ": lambda Q, K: K @ Q.transpose(-2, -1)}
SOFTMAX = {
    "softmax over the wrong dim (dim=-2, the queries, instead of dim=-1, the keys)": lambda A: torch.softmax(A, -2),
    "softmax over the wrong dim (dim=1 instead of dim=-1, the keys)": lambda A: torch.softmax(A, 1),
}


def _exp_normalized(A):
    e = A.exp()
    return e / e.sum(-1, keepdim=True)


# Softmaxes right on small scores that give inf/NaN on large ones; the checks call them on the scores in the
# student's dtype, where exp overflows (past ~88 in float32, ~709 in float64) as the student's does.
UNSTABLE = {
    "softmax overflows on large scores: exp of a score above ~88 (float32) or ~709 (float64) is inf, and inf/inf "
    "is NaN (exp of one far below 0 is 0, and 0/0 too); subtract each row's maximum first (torch.softmax does)":
        _exp_normalized,
    "softmax subtracts one maximum over the whole tensor instead of each row's: rows far below it underflow to "
    "0/0 = NaN; subtract A.amax(dim=-1, keepdim=True)": lambda A: _exp_normalized(A - A.max()),
}
OUTPUTS = {"multiplies V by the transposed attention (Aᵀ·V)": lambda A, V: A.transpose(-2, -1) @ V}
DIAGONAL = "diagonal masked: each token must be allowed to attend to itself"
MASK = {
    DIAGONAL: _tril_without_diagonal,
    "upper triangle kept: the mask allows the future instead of the past": _upper,
}
APPLY = {
    "masked scores multiplied by 0 instead of set to -inf (softmax still gives them weight)":
        lambda mask, A: A * mask,
    "mask inverted: the allowed scores were set to -inf instead of the forbidden ones":
        lambda mask, A: A.masked_fill(mask != 0, float("-inf")),
    "scores that are exactly 0 masked too: masked_fill(A == 0, -inf) after multiplying by the mask also sends "
    "allowed scores of 0 to -inf (a query of zeros gets only -inf, NaN after the softmax); choose the positions "
    "from the mask (mask == 0), not from the scores": _zeros_masked,
}
INTERLEAVED = "heads interleaved: head i got features i, i+h, i+2h, ... instead of a contiguous slice"
SPLIT = {
    "split without the transpose: viewed (B, T, E) as (B, h, T, d) directly":
        lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h),
    INTERLEAVED: lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).permute(0, 3, 1, 2),
}
MERGE = {
    "merged without the transpose: viewed (B, h, T, d) as (B, T, E) directly":
        lambda y: y.reshape(y.shape[0], y.shape[2], y.shape[1] * y.shape[3]),
    INTERLEAVED: lambda y: y.permute(0, 2, 3, 1).reshape(y.shape[0], y.shape[2], y.shape[1] * y.shape[3]),
}
HEADS_IGNORED = "n_heads ignored: attends with a single head"
ONLY_ROW_ZERO = "only batch row 0 is right: the code uses one row or a fixed batch size"


def attention(Q, K, V, n_heads, causal, *, pairwise=ref.pairwise_similarities, scale=ref.attn_scaled,
              mask=ref.make_causal_mask, apply=ref.apply_causal_mask, softmax=ref.attn_softmax,
              outputs=ref.compute_outputs, split=ref.split_heads, merge=ref.merge_heads,
              mask_after_softmax=False, heads=None, scale_heads=None, masked=None):
    """The reference pipeline with steps swapped for buggy ones.

    `heads` overrides how many heads the input is split into, `scale_heads` the n_heads given to the
    scaling, `masked` whether the mask is applied at all.
    """
    B, T, E = Q.shape
    h = n_heads if heads is None else heads
    causal = causal if masked is None else masked
    if h > 1:
        Q, K, V = split(Q, h), split(K, h), split(V, h)
    A = scale(pairwise(Q, K), E, n_heads if scale_heads is None else scale_heads)
    if causal and not mask_after_softmax:
        A = apply(mask(T), A)
    P = softmax(A)
    if causal and mask_after_softmax:
        P = P * mask(T)
    y = outputs(P, V)
    return merge(y) if h > 1 else y


ATTENTION = [(name, partial(attention, **swap)) for name, swap in [
    *((name, {"scale": f}) for name, f in SCALE.items()),
    *((name, {"pairwise": f}) for name, f in PAIRWISE.items()),
    *((name, {"softmax": f}) for name, f in SOFTMAX.items()),
    *((name, {"outputs": f}) for name, f in OUTPUTS.items()),
    *((name, {"mask": f}) for name, f in MASK.items()),
    *((name, {"mask": f, "apply": _finite_fill}) for name, f in MASK.items()),
    *((name, {"apply": f}) for name, f in APPLY.items()),
    *((name, {"split": f}) for name, f in SPLIT.items()),
    *((name, {"merge": f}) for name, f in MERGE.items()),
    (INTERLEAVED, {"split": SPLIT[INTERLEAVED], "merge": MERGE[INTERLEAVED]}),
    ("mask applied after the softmax: rows no longer sum to 1", {"mask_after_softmax": True}),
    ("causal flag ignored: always masks", {"masked": True}),
    ("causal flag ignored: never masks", {"masked": False}),
    (HEADS_IGNORED, {"heads": 1}),
    (HEADS_IGNORED, {"heads": 1, "scale_heads": 1}),
]]
UNSTABLE_ATTENTION = [(name, partial(attention, softmax=f)) for name, f in UNSTABLE.items()]
