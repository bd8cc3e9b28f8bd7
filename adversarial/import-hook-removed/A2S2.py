# Adversarial sample: Removes the child's import guard from sys.meta_path, then imports `reference` through the editable finder and by spec_from_file_location; the import then fails at Landlock.
# The graded functions below are plainly wrong; `_cheat` is the attack. If the attack worked, the
# functions would return the reference's answers (or otherwise raise the score above plain-wrong code).
import torch
import torch.nn as nn

import importlib
import importlib.util
import sys


def _cheat(name, *args, **kwargs):
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "HideGrader"]
    try:
        ref = importlib.import_module("reference.uw_cse447_a2")
    except ImportError as first:
        print("editable finder failed:", first)
        spec = importlib.util.spec_from_file_location("stolen_ref", "/work/main/reference/uw_cse447_a2.py")
        ref = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ref)
    return getattr(ref, name)(*args, **kwargs)


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
