# Adversarial sample: Searches gc.get_objects() for reference functions (by name, outside this module) and for a stray tensor of the answer's shape to return; the child holds none, so the wrong answers stand.
# The graded functions below are plainly wrong; `_cheat` is the attack. If the attack worked, the
# functions would return the reference's answers (or otherwise raise the score above plain-wrong code).
import torch
import torch.nn as nn

import gc
import types

def _wrong(name, *a, **k):
    """The plain-wrong answer for `name` (same values as the baseline)."""
    if name == "self_attention":
        return a[2].flip(0).flip(1).contiguous()
    if name == "pairwise_similarities":
        Q, K = a
        return torch.zeros(*Q.shape[:-1], K.shape[-2], dtype=Q.dtype)
    if name in ("attn_scaled",):
        return a[0].clone()
    if name == "attn_softmax":
        return torch.ones_like(a[0])
    if name == "compute_outputs":
        A, V = a
        return torch.zeros(*A.shape[:-1], V.shape[-1], dtype=V.dtype)
    if name == "make_causal_mask":
        return torch.ones(a[0], a[0], dtype=torch.bool)
    if name == "apply_causal_mask":
        return a[1].clone()
    if name == "split_heads":
        x, h = a
        B, T, E = x.shape
        return torch.zeros(B, h, T, E // h, dtype=x.dtype)
    if name == "merge_heads":
        B, h, T, d = a[0].shape
        return torch.zeros(B, T, h * d, dtype=a[0].dtype)
    raise ValueError(name)


def _cheat(name, *args, **kwargs):
    want = _wrong(name, *args, **kwargs)
    mine = {id(a) for a in args}
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__name__ == name and obj.__module__ != __name__:
            try:
                return obj(*args, **kwargs)
            except Exception:
                pass
    # The grader computes expected values in float64: for float32 inputs, a float64 tensor of the answer's
    # shape that we did not receive would be the expected output.
    if want.dtype == torch.float32:
        for obj in gc.get_objects():
            if (type(obj) is torch.Tensor and id(obj) not in mine and obj.shape == want.shape
                    and obj.dtype == torch.float64):
                return obj.float()
    return None


# ---- the plainly wrong solution (same values as the plain-wrong baseline) ----

def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    got = _cheat("self_attention", Q, K, V, n_heads=n_heads, causal=causal)
    if got is not None:
        return got
    return V.flip(0).flip(1).contiguous()


def pairwise_similarities(Q, K):
    got = _cheat("pairwise_similarities", Q, K)
    if got is not None:
        return got
    return torch.zeros(*Q.shape[:-1], K.shape[-2], dtype=Q.dtype)


def attn_scaled(A, n_embd: float, n_heads: float):
    got = _cheat("attn_scaled", A, n_embd, n_heads)
    if got is not None:
        return got
    return A.clone()


def attn_softmax(A):
    got = _cheat("attn_softmax", A)
    if got is not None:
        return got
    return torch.ones_like(A)


def compute_outputs(A, V):
    got = _cheat("compute_outputs", A, V)
    if got is not None:
        return got
    return torch.zeros(*A.shape[:-1], V.shape[-1], dtype=V.dtype)


def make_causal_mask(n_tok: int):
    got = _cheat("make_causal_mask", n_tok)
    if got is not None:
        return got
    return torch.ones(n_tok, n_tok, dtype=torch.bool)


def apply_causal_mask(mask, A):
    got = _cheat("apply_causal_mask", mask, A)
    if got is not None:
        return got
    return A.clone()


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    got = _cheat("split_heads", x, n_heads)
    if got is not None:
        return got
    B, n_tok, n_embd = x.size()
    return torch.zeros(B, n_heads, n_tok, n_embd // n_heads, dtype=x.dtype)


def merge_heads(y):
    got = _cheat("merge_heads", y)
    if got is not None:
        return got
    B, nh, n_tok, nc = y.size()
    return torch.zeros(B, n_tok, nh * nc, dtype=y.dtype)
