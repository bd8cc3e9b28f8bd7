"""JHU CS 601.471/671 hw5 (gpt/model.py): nanoGPT's causal self-attention, the module students complete.

`config` is any object with n_embd, n_head, block_size, dropout and bias (the handout's GPTConfig).
"""
import math

import torch
import torch.nn as nn
from torch.nn import functional as F


def causal_mask(block_size):
    """(1, 1, block_size, block_size): 1 where query i may attend to key j (j <= i), else 0."""
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
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v of every head at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.register_buffer("causal_mask", causal_mask(config.block_size))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (split(t, self.n_head) for t in self.c_attn(x).split(self.n_embd, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(self.causal_mask[:, :, :T, :T] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        return self.resid_dropout(self.c_proj(merge(att @ v)))
