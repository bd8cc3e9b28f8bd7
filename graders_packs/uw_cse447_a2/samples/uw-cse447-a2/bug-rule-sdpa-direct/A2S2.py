"""A2S2 with self_attention handed to torch's fused attention."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    B, n_tok, n_embd = Q.size()
    q, k, v = split_heads_qkv(Q, K, V, n_heads)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return merge_heads(y)


def pairwise_similarities(Q, K):
    return Q @ K.transpose(-2, -1)


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return A / math.sqrt(n_embd / n_heads)


def attn_softmax(A):
    return torch.softmax(A, dim=-1)


def compute_outputs(A, V):
    return A @ V


def make_causal_mask(n_tok: int):
    return torch.tril(torch.ones(n_tok, n_tok, dtype=torch.bool))


def apply_causal_mask(mask, A):
    return A.masked_fill(~mask, float("-inf"))


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return x.view(B, n_tok, n_heads, n_embd // n_heads).transpose(1, 2)


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    return y.transpose(1, 2).reshape(B, n_tok, nh * nc)
