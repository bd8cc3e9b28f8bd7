import torch
import torch.nn as nn


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    """Always goes through the (B, h, T, d) layout; with one head that is just (B, 1, T, E)."""
    assert Q.shape == K.shape == V.shape
    _, n_tok, n_embd = Q.shape
    q, k, v = split_heads_qkv(Q, K, V, n_heads)
    scores = attn_scaled(pairwise_similarities(q, k), n_embd, n_heads)
    if causal:
        scores = apply_causal_mask(make_causal_mask(n_tok), scores)
    return merge_heads(compute_outputs(attn_softmax(scores), v))


def pairwise_similarities(Q, K):
    *batch, n_q, d = Q.shape
    n_k = K.shape[-2]
    # (..., n_q, 1, d) * (..., 1, n_k, d) summed over d
    return (Q.unsqueeze(-2) * K.unsqueeze(-3)).sum(dim=-1)


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    d_k = torch.tensor(n_embd / n_heads, dtype=torch.float64)
    return A / d_k.sqrt().item()


def attn_softmax(A):
    return torch.nn.Softmax(dim=-1)(A)


def compute_outputs(A, V):
    return (A.unsqueeze(-1) * V.unsqueeze(-3)).sum(dim=-2)


def make_causal_mask(n_tok: int):
    mask = torch.zeros(n_tok, n_tok, dtype=torch.long)
    for i in range(n_tok):
        mask[i, : i + 1] = 1
    return mask


def apply_causal_mask(mask, A):
    return A.masked_fill(mask.logical_not(), float("-inf"))


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return torch.stack([x[:, :, h * (n_embd // n_heads):(h + 1) * (n_embd // n_heads)] for h in range(n_heads)], dim=1)


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    out = y.new_empty(B, n_tok, nh * nc)
    for h in range(nh):
        out[:, :, h * nc:(h + 1) * nc] = y[:, h]
    return out
