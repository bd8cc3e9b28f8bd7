# Plainly wrong A2S2: every graded function returns something of the right shape but the wrong values.
import torch
import torch.nn as nn


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    # wrong: returns the values with batch rows and tokens reversed (no attention at all)
    return V.flip(0).flip(1).contiguous()


def pairwise_similarities(Q, K):
    return torch.zeros(*Q.shape[:-1], K.shape[-2], dtype=Q.dtype)


def attn_scaled(A, n_embd: float, n_heads: float):
    return A.clone()


def attn_softmax(A):
    return torch.ones_like(A)


def compute_outputs(A, V):
    return torch.zeros(*A.shape[:-1], V.shape[-1], dtype=V.dtype)


def make_causal_mask(n_tok: int):
    return torch.ones(n_tok, n_tok, dtype=torch.bool)


def apply_causal_mask(mask, A):
    return A.clone()


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    return torch.zeros(B, n_heads, n_tok, n_embd // n_heads, dtype=x.dtype)


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    return torch.zeros(B, n_tok, nh * nc, dtype=y.dtype)
