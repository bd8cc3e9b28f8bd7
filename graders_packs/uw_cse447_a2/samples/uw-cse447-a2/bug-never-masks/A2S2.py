"""CSE 447 A2, section 2.1 -- attention from scratch.

I wrote every contraction with torch.einsum because I find the index notation easier to check
against the equations in the handout than a pile of transposes.
"""
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

    A = pairwise_similarities(Q, K)
    A = attn_scaled(A, n_embd, n_heads)
    A = attn_softmax(A)
    y = compute_outputs(A, V)

    if n_heads > 1:
        y = merge_heads(y)
    return y


def pairwise_similarities(Q, K):
    # score[..., i, j] = <q_i, k_j>; the ellipsis covers (B,) and (B, h)
    return torch.einsum("...id,...jd->...ij", Q, K)


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    d_head = n_embd // n_heads
    return A * (1.0 / math.sqrt(d_head))


def attn_softmax(A):
    return A.softmax(dim=-1)


def compute_outputs(A, V):
    # y[..., i, :] = sum_j A[..., i, j] v_j
    return torch.einsum("...ij,...jd->...id", A, V)


def make_causal_mask(n_tok: int):
    i = torch.arange(n_tok)
    # query i may look at key j iff j <= i
    return torch.einsum("i,j->ij", i, torch.ones_like(i)) >= torch.einsum("i,j->ij", torch.ones_like(i), i)


def apply_causal_mask(mask, A):
    return A.masked_fill(mask.logical_not(), float("-inf"))


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    x = x.reshape(B, n_tok, n_heads, n_embd // n_heads)
    return torch.einsum("bthd->bhtd", x)


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    return torch.einsum("bhtd->bthd", y).reshape(B, n_tok, nh * nc)
