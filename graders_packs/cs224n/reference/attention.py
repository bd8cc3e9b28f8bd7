"""CS224N minGPT attention variants: causal self-attention with optional RoPE (A4 2024), the Synthesizer
(A5 2021) and the causal cross-attention that the Perceiver blocks use (A5 2023, given to students).

`config` is any object with n_embd, n_head, block_size, attn_pdrop, resid_pdrop (and rope for 2024).
"""
import math

import torch
import torch.nn as nn
from torch.nn import functional as F


def precompute_rotary_emb(dim, max_positions):
    """(max_positions, dim/2, 2): cos and sin of t·θ_i, θ_i = 10000^(-2(i-1)/dim), i = 1 .. dim/2."""
    theta = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    angles = torch.outer(torch.arange(max_positions, dtype=torch.float32), theta)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def apply_rotary_emb(x, rope_cache):
    """Rotate each pair (x[..., 2i], x[..., 2i+1]) of (B, h, T, d) by the angle of position t."""
    T = x.shape[-2]
    cos, sin = rope_cache[:T, :, 0], rope_cache[:T, :, 1]
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


def causal_mask(block_size):
    return torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size)


def split(t, n_head):
    """(B, T, C) -> (B, nh, T, C/nh)."""
    B, T, C = t.shape
    return t.view(B, T, n_head, C // n_head).transpose(1, 2)


def merge(y):
    """(B, nh, T, hs) -> (B, T, nh·hs)."""
    B, nh, T, hs = y.shape
    return y.transpose(1, 2).contiguous().view(B, T, nh * hs)


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.key = nn.Linear(config.n_embd, config.n_embd)
        self.query = nn.Linear(config.n_embd, config.n_embd)
        self.value = nn.Linear(config.n_embd, config.n_embd)
        self.rope = getattr(config, "rope", False)
        if self.rope:
            self.register_buffer("rope_cache", precompute_rotary_emb(config.n_embd // config.n_head, config.block_size))
        self.attn_drop = nn.Dropout(config.attn_pdrop)
        self.resid_drop = nn.Dropout(config.resid_pdrop)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.register_buffer("mask", causal_mask(config.block_size))
        self.n_head = config.n_head

    def forward(self, x):
        T = x.shape[1]
        k, q, v = (split(f(x), self.n_head) for f in (self.key, self.query, self.value))
        if self.rope:
            q, k = apply_rotary_emb(q, self.rope_cache), apply_rotary_emb(k, self.rope_cache)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, -1e10)
        att = self.attn_drop(F.softmax(att, dim=-1))
        return self.resid_drop(self.proj(merge(att @ v)))


class SynthesizerAttention(nn.Module):
    """Dense Synthesizer: each head's attention scores come from the token alone, ReLU(x·A_i + b1)·B_i + b2,
    with B_i a (head_size, block_size - 1) matrix sliced to the first T columns."""

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.w1 = nn.Linear(config.n_embd, config.n_embd)
        self.w2 = nn.Parameter(torch.zeros(config.n_embd // config.n_head, config.block_size - 1))
        self.b2 = nn.Parameter(torch.zeros(config.block_size - 1))
        self.value = nn.Linear(config.n_embd, config.n_embd)
        self.attn_drop = nn.Dropout(config.attn_pdrop)
        self.resid_drop = nn.Dropout(config.resid_pdrop)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.register_buffer("mask", causal_mask(config.block_size))
        self.n_head = config.n_head
        self.block_size = config.block_size
        nn.init.uniform_(self.w2, -0.001, 0.001)

    def forward(self, x):
        T = x.shape[1]
        a = split(F.relu(self.w1(x)), self.n_head)               # (B, nh, T, hs)
        att = a @ self.w2[:, :T] + self.b2[:T]                   # (B, nh, T, T)
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, -1e10)
        att = self.attn_drop(F.softmax(att, dim=-1))
        return self.resid_drop(self.proj(merge(att @ split(self.value(x), self.n_head))))


class CausalCrossAttention(CausalSelfAttention):
    """Queries from `x_q`, keys and values from `x_kv`; query i sees keys up to i (given in the 2023 handout)."""

    def forward(self, x_kv, x_q):
        Tk, Tq = x_kv.shape[1], x_q.shape[1]
        k, v = split(self.key(x_kv), self.n_head), split(self.value(x_kv), self.n_head)
        q = split(self.query(x_q), self.n_head)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(self.mask[:, :, :Tq, :Tk] == 0, -1e10)
        att = self.attn_drop(F.softmax(att, dim=-1))
        return self.resid_drop(self.proj(merge(att @ v)))
