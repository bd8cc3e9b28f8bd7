import math

import torch
import torch.nn as nn


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


class Heads(nn.MultiheadAttention):
    """torch's attention with identity projections, so only the attention itself is left."""

    def __init__(self, n_embd, n_heads, dtype):
        super().__init__(n_embd, n_heads, bias=False, batch_first=True, dtype=dtype)
        with torch.no_grad():
            self.in_proj_weight.copy_(torch.eye(n_embd, dtype=dtype).repeat(3, 1))
            self.out_proj.weight.copy_(torch.eye(n_embd, dtype=dtype))


def self_attention(Q, K, V, n_heads=1, causal=True):
    B, n_tok, n_embd = Q.size()
    mask = ~make_causal_mask(n_tok) if causal else None
    with torch.no_grad():
        y, _ = Heads(n_embd, n_heads, Q.dtype)(Q, K, V, attn_mask=mask, need_weights=False)
    return y


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
