import math

import torch
import torch.nn as nn


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    assert Q.shape == K.shape == V.shape
    B, n_tok, n_embd = Q.size()
    if n_heads > 1:
        Q, K, V = split_heads_qkv(Q, K, V, n_heads)
    scores = attn_scaled(pairwise_similarities(Q, K), n_embd, n_heads)
    if causal:
        scores = apply_causal_mask(make_causal_mask(n_tok), scores)
    weights = attn_softmax(scores)
    out = compute_outputs(weights, V)
    return merge_heads(out) if n_heads > 1 else out


def pairwise_similarities(Q, K):
    return Q @ K.mT


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return A / math.sqrt(n_embd // n_heads)


def attn_softmax(A):
    # numerically stable softmax written out by hand
    A = A - A.amax(dim=-1, keepdim=True)
    e = torch.exp(A)
    return e / e.sum(dim=-1, keepdim=True)


def compute_outputs(A, V):
    return torch.bmm(A.flatten(0, -3), V.flatten(0, -3)).view(*A.shape[:-1], V.shape[-1])


def make_causal_mask(n_tok: int):
    rows = torch.arange(n_tok).unsqueeze(1)
    cols = torch.arange(n_tok).unsqueeze(0)
    return cols >= rows


def apply_causal_mask(mask, A):
    # additive mask: 0 where allowed, -inf where not, broadcast over (B,) or (B, h)
    bias = torch.zeros_like(A).masked_fill(mask == 0, float("-inf"))
    return A + bias


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return torch.stack(x.chunk(n_heads, dim=-1), dim=1)


def merge_heads(y):
    return torch.cat(y.unbind(dim=1), dim=-1)
