"""CS224N attention.py (adversarial catalogue, control): Honest: the vanilla attention with its projections made in one generator expression and the mask applied as the handout asks."""
import math

import torch
import torch.nn as nn
from torch.nn import functional as F


def precompute_rotary_emb(dim, max_positions):
    half = torch.arange(dim // 2, dtype=torch.float32)
    angles = torch.arange(max_positions, dtype=torch.float32)[:, None] / 10000.0 ** (2 * half / dim)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def apply_rotary_emb(x, rope_cache):
    cos, sin = rope_cache[:x.shape[-2], :, 0], rope_cache[:x.shape[-2], :, 1]
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).reshape(x.shape)


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.key, self.query, self.value, self.proj = (nn.Linear(config.n_embd, config.n_embd) for _ in range(4))
        self.rope = config.rope
        if self.rope:
            self.register_buffer("rope_cache", precompute_rotary_emb(config.n_embd // config.n_head, config.block_size))
        self.attn_drop, self.resid_drop = nn.Dropout(config.attn_pdrop), nn.Dropout(config.resid_pdrop)
        size = config.block_size
        self.register_buffer("mask", torch.tril(torch.ones(size, size)).view(1, 1, size, size))

    def forward(self, x):
        B, T, C = x.size()
        k, q, v = (f(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                   for f in (self.key, self.query, self.value))
        if self.rope:
            q, k = apply_rotary_emb(q, self.rope_cache), apply_rotary_emb(k, self.rope_cache)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, -1e10)
        y = self.attn_drop(F.softmax(att, dim=-1)) @ v
        return self.resid_drop(self.proj(y.transpose(1, 2).contiguous().view(B, T, C)))
