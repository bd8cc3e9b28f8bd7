"""Known hw5 attention bugs as variants of the reference module; a student's wrong output that equals one is
named by it. `forward` is the reference forward with one step changed; BUGS maps a bug's name to fn(m, x)."""
import math

from torch.nn import functional as F

from graders_packs.jhu_cs601_hw5 import reference as ref

# The variants re-implement the reference: a student kit replays what they output (graders/checks/oracle.py runs
# them on the reference module), and holds their names, not their code.
KIT = "recorded"

NO_MASK = ("no causal mask applied: every token attends to the future (a mask of all ones, e.g. torch.tril's "
           "result thrown away, does the same)")
MASK_FULL_BLOCK = ("the mask only works when T equals block_size: slice the buffer to the input's length, "
                   "causal_mask[:, :, :T, :T]")
TRIL_DISCARDED = ("torch.tril's result was thrown away (torch.tril returns a new tensor and leaves its argument "
                  "as it was), so the mask allows every position")
BIAS_IGNORED = ("config.bias ignored: c_attn and c_proj must have biases exactly when config.bias is True; pass "
                "bias=config.bias to nn.Linear, as the handout's MLP does")
DROPOUT_IGNORED = ("dropout never applied: config.dropout is ignored in training mode; apply self.attn_dropout to "
                   "the attention weights and self.resid_dropout to c_proj's output")
DROPOUT_HARD_CODED = ("dropout rate hard-coded: the same rate whatever config.dropout says; build the dropouts with "
                      "nn.Dropout(config.dropout)")
DROPOUT_NOT_RANDOM = ("dropout does not draw a new random mask on each call (a seed or a fixed mask in forward?); "
                      "nn.Dropout and F.dropout draw one from torch's generator every call")
RESID_DROPOUT_MISSING = ("resid_dropout not applied: nanoGPT drops c_proj's output, y = self.resid_dropout("
                         "self.c_proj(y))")
ATTN_DROPOUT_MISSING = ("attn_dropout not applied to the attention weights: nanoGPT drops them after the softmax, "
                        "att = self.attn_dropout(att) (or scaled_dot_product_attention's dropout_p while training)")
HARD_CODED_HEADS = (2, 3, 4, 6, 8)


def forward(m, x, scale="head", kt_q=False, mask="before", heads="split", merge_transpose=True, softmax_dim=-1,
            proj=True, n_head=None):
    """The reference forward with one step changed, for naming what a wrong output does; `n_head` is the number
    of heads a student's code uses instead of config.n_head."""
    B, T, C = x.shape
    used = n_head or m.n_head
    n_head = 1 if heads == "one" else used
    q, k, v = m.c_attn(x).split(C, dim=2)
    if heads == "no-transpose":
        q, k, v = (t.reshape(B, n_head, T, C // n_head) for t in (q, k, v))
    else:
        q, k, v = (ref.split(t, n_head) for t in (q, k, v))
    att = (k @ q.transpose(-2, -1)) if kt_q else (q @ k.transpose(-2, -1))
    att = att / {"head": math.sqrt(C // used), "embd": math.sqrt(C), "none": 1.0}[scale]
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
    *[(f"n_head hard-coded: the output is that of {k} heads whatever config.n_head says; read config.n_head",
       lambda m, x, k=k: forward(m, x, n_head=k)) for k in HARD_CODED_HEADS],
])

