"""UW CSE 447/517 A2 §2.1: causal multi-head self-attention from scratch.

Shapes: B batch, T tokens, E embedding (n_embd), h heads, d = E / h per head.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def init_qkv_proj(n_embd):
    """Given in the handout: the three input projections."""
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def pairwise_similarities(Q, K):
    """Raw attention scores A = Q·Kᵀ over the last two dims."""
    return Q @ K.transpose(-2, -1)


def attn_scaled(A, n_embd, n_heads):
    """Scale by sqrt of the per-head dimension, so scores keep unit variance."""
    return A / math.sqrt(n_embd / n_heads)


def attn_softmax(A):
    """Each query's scores become a distribution over the keys (last dim)."""
    return torch.softmax(A, dim=-1)


def compute_outputs(A, V):
    """Each output is the attention-weighted average of the values."""
    return A @ V


def make_causal_mask(n_tok):
    """True where a query may attend: itself and earlier tokens (lower triangle with the diagonal)."""
    return torch.tril(torch.ones(n_tok, n_tok, dtype=torch.bool))


def apply_causal_mask(mask, A):
    """Forbidden scores become -inf so the softmax gives them exactly zero weight."""
    return A.masked_fill(mask == 0, float("-inf"))


def split_heads_qkv(Q, K, V, n_heads):
    """Given in the handout."""
    return split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads)


def split_heads(x, n_heads):
    """(B, T, E) -> (B, h, T, d): each head sees its own slice of the embedding."""
    B, T, E = x.shape
    return x.view(B, T, n_heads, E // n_heads).transpose(1, 2)


def merge_heads(y):
    """(B, h, T, d) -> (B, T, E): the inverse of split_heads."""
    B, h, T, d = y.shape
    return y.transpose(1, 2).reshape(B, T, h * d)


def self_attention(Q, K, V, n_heads=1, causal=True):
    """softmax(mask(Q·Kᵀ / sqrt(d)))·V per head, heads merged back."""
    B, T, E = Q.shape
    if n_heads > 1:
        Q, K, V = split_heads_qkv(Q, K, V, n_heads)
    A = attn_scaled(pairwise_similarities(Q, K), E, n_heads)
    if causal:
        A = apply_causal_mask(make_causal_mask(T).to(A.device), A)
    y = compute_outputs(attn_softmax(A), V)
    if n_heads > 1:
        y = merge_heads(y)
    return y


def torch_attention(Q, K, V, n_heads=1, causal=True):
    """The course's MHA_wrapper: torch's multi_head_attention_forward with identity projections."""
    B, T, E = Q.shape
    eye = torch.eye(E, dtype=Q.dtype)
    mask = ~make_causal_mask(T) if causal else None
    out, _ = F.multi_head_attention_forward(
        Q.transpose(0, 1), K.transpose(0, 1), V.transpose(0, 1), E, n_heads,
        in_proj_weight=eye.repeat(3, 1), in_proj_bias=None, bias_k=None, bias_v=None,
        add_zero_attn=False, dropout_p=0.0, out_proj_weight=eye, out_proj_bias=None,
        attn_mask=mask, need_weights=False)
    return out.transpose(0, 1)
