"""Known hw5 attention bugs as variants of the reference module; a student's wrong output that equals one is
named by it. `forward` is the reference forward with one step changed; BUGS maps a bug's name to fn(m, x)."""
import math

import torch
from torch.nn import functional as F

from reference import jhu_cs601_hw5 as ref

# Not in the student kit: the variants re-implement the reference and run on reference nn.Modules.
KIT = "withheld"

NO_MASK = ("no causal mask applied: every token attends to the future (a mask of all ones, e.g. torch.tril's "
           "result thrown away, does the same)")
MASK_FULL_BLOCK = ("the mask only works when T equals block_size: slice the buffer to the input's length, "
                   "causal_mask[:, :, :T, :T]")
TRIL_DISCARDED = ("torch.tril's result was thrown away (torch.tril returns a new tensor and leaves its argument "
                  "as it was), so the mask allows every position")


def forward(m, x, scale="head", kt_q=False, mask="before", heads="split", merge_transpose=True, softmax_dim=-1,
            proj=True):
    """The reference forward with one step changed, for naming what a wrong output does."""
    B, T, C = x.shape
    n_head = 1 if heads == "one" else m.n_head
    q, k, v = m.c_attn(x).split(C, dim=2)
    if heads == "no-transpose":
        q, k, v = (t.reshape(B, n_head, T, C // n_head) for t in (q, k, v))
    else:
        q, k, v = (ref.split(t, n_head) for t in (q, k, v))
    att = (k @ q.transpose(-2, -1)) if kt_q else (q @ k.transpose(-2, -1))
    att = att / {"head": math.sqrt(C // m.n_head), "embd": math.sqrt(C), "none": 1.0}[scale]
    future = m.causal_mask[:, :, :T, :T] == 0
    if mask == "before":
        att = att.masked_fill(future, float("-inf"))
    elif mask == "inverted":
        att = att.masked_fill(~future, float("-inf"))
    att = F.softmax(att, dim=softmax_dim)
    if mask == "after":
        att = att.masked_fill(future, 0.0)
    y = att @ v
    y = ref.merge(y) if merge_transpose else y.contiguous().view(B, T, C)
    return m.c_proj(y) if proj else y


BUGS = dict([
    ("scores scaled by sqrt(n_embd) instead of sqrt(head_dim) = sqrt(n_embd / n_head)",
     lambda m, x: forward(m, x, scale="embd")),
    ("scores not scaled by 1/sqrt(head_dim)", lambda m, x: forward(m, x, scale="none")),
    ("computes kᵀq (k @ q.transpose(-2, -1)) instead of q·kᵀ: the scores are transposed",
     lambda m, x: forward(m, x, kt_q=True)),
    (NO_MASK, lambda m, x: forward(m, x, mask=None)),
    ("mask inverted: the allowed scores were set to -inf and the future ones kept",
     lambda m, x: forward(m, x, mask="inverted")),
    ("mask applied after the softmax (rows no longer sum to 1)", lambda m, x: forward(m, x, mask="after")),
    ("softmax over the queries (dim=-2) instead of the keys (dim=-1)", lambda m, x: forward(m, x, softmax_dim=-2)),
    ("heads not split: one attention over the whole embedding, scaled by sqrt(n_embd)",
     lambda m, x: forward(m, x, heads="one", scale="embd")),
    ("heads not split: one attention over the whole embedding, scaled by sqrt(head_dim)",
     lambda m, x: forward(m, x, heads="one")),
    ("heads split without the transpose: (B, T, C) viewed as (B, nh, T, hs) directly",
     lambda m, x: forward(m, x, heads="no-transpose")),
    ("heads merged without transposing back: (B, nh, T, hs) viewed as (B, T, C) directly",
     lambda m, x: forward(m, x, merge_transpose=False)),
    ("output projection c_proj not applied", lambda m, x: forward(m, x, proj=False)),
])


def mask_bug(mask, block_size):
    """The known bug a wrong causal_mask buffer shows, or None; `mask` is the student's buffer."""
    n = block_size
    allowed = mask.reshape(-1, n, n)[0] != 0 if mask.numel() == n * n else None
    if allowed is None:
        return None
    if bool(allowed.all()):
        return TRIL_DISCARDED
    for name, want in [("upper triangle kept (torch.triu): the mask allows the future instead of the past",
                        torch.triu(torch.ones(n, n, dtype=torch.bool))),
                       ("diagonal masked (tril with diagonal=-1): each token must be allowed to attend to itself",
                        torch.tril(torch.ones(n, n, dtype=torch.bool), diagonal=-1)),
                       ("mask inverted: 1 (allowed) above the diagonal, 0 on and below it",
                        ~torch.tril(torch.ones(n, n, dtype=torch.bool)))]:
        if torch.equal(allowed, want):
            return name
    return None
