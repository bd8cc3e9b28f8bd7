# A2S2.py -- I do all the arithmetic in double precision so that my outputs agree with
# torch.nn.MultiheadAttention to many digits when I compare them in the notebook.
import math

import torch
import torch.nn as nn


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    assert Q.shape == K.shape == V.shape
    B, n_tok, n_embd = Q.size()
    Q, K, V = Q.double(), K.double(), V.double()
    if n_heads > 1:
        Q, K, V = split_heads_qkv(Q, K, V, n_heads)
    A = pairwise_similarities(Q, K)
    A = attn_scaled(A, n_embd, n_heads)
    # decoder-only model: always causal
    A = apply_causal_mask(make_causal_mask(n_tok), A)
    A = attn_softmax(A)
    y = compute_outputs(A, V)
    if n_heads > 1:
        y = merge_heads(y)
    return y


def pairwise_similarities(Q, K):
    return torch.matmul(Q.to(torch.float64), K.to(torch.float64).transpose(-1, -2))


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return A.double() / math.sqrt(float(n_embd) / float(n_heads))


def attn_softmax(A):
    return torch.softmax(A, dim=-1, dtype=torch.float64)


def compute_outputs(A, V):
    return A.double() @ V.double()


def make_causal_mask(n_tok: int):
    return torch.tril(torch.ones(n_tok, n_tok, dtype=torch.float64))


def apply_causal_mask(mask, A):
    A = A.double()
    return torch.where(mask.bool(), A, torch.tensor(float("-inf"), dtype=torch.float64))


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return x.double().reshape(B, n_tok, n_heads, n_embd // n_heads).transpose(1, 2)


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    return y.double().transpose(1, 2).reshape(B, n_tok, nh * nc)
