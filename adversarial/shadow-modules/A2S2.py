# Adversarial sample: Ships torch.py, math.py, numpy.py, hypothesis.py and pytest.py next to wrong A2S2.py to shadow the grader's modules with lying versions (math.sqrt == 1 would make the wrong attn_scaled match); neither the child nor the grader imports from the submission folder.
# The graded functions below are plainly wrong; `_cheat` is the attack. If the attack worked, the
# functions would return the reference's answers (or otherwise raise the score above plain-wrong code).
import torch
import torch.nn as nn

import math
import numpy

def _cheat(name, *args, **kwargs):
    return None     # the attack is in the other files of this folder


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
