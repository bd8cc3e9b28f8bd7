"""hw5 gpt/model.py (adversarial catalogue, baseline): CausalSelfAttention.forward left as the handout's TODO (raises NotImplementedError): plain wrong code for the smoke group, whose threshold check cannot train with it."""
import math

import torch
import torch.nn as nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        size = config.block_size
        self.register_buffer("causal_mask", torch.tril(torch.ones(size, size)).view(1, 1, size, size))
    def split(self, t, B, T):
        return t.view(B, T, self.n_head, self.n_embd // self.n_head).transpose(1, 2)

    def forward(self, x):
        # TODO: causal self-attention
        raise NotImplementedError
