"""
Originally forked from Andrej Karpathy's minGPT.

CS224N 2023-24: Homework 4

John Hewitt <johnhew@stanford.edu>
Ansh Khurana <anshk@stanford.edu>
Soumya Chatterjee <soumyac@stanford.edu>
"""

import math
import logging

import torch
import torch.nn as nn
from torch.nn import functional as F

logger = logging.getLogger(__name__)


def precompute_rotary_emb(dim, max_positions):
    """
    RoPE uses the following sinusoidal functions to encode positions:

    cos(t theta_i) and sin(t theta_i)
        where t is the position and
              theta_i = 1/10000^(2(i-1)/dim) for i in [1, dim/2]

    Since the maximum length of sequences is known, we can precompute
    these values to speed up training.

    Implement the precompute_rotary_emb function that returns a tensor of
    shape (max_positions, dim/2, 2) where the last dimension contains
    the cos and sin values for each position and each dimension of
    the embedding.
    """

    rope_cache = None
    # TODO: [part g]
    ### YOUR CODE HERE ###
    i = torch.arange(1, dim // 2 + 1, dtype=torch.float32)          # i = 1 .. dim/2
    theta = 1.0 / (10000.0 ** (2 * (i - 1) / dim))                  # (dim/2,)
    t = torch.arange(max_positions, dtype=torch.float32)            # (max_positions,)
    angles = t[:, None] * theta[None, :]                            # (max_positions, dim/2)
    rope_cache = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1)
    ### END YOUR CODE ###
    return rope_cache


def apply_rotary_emb(x, rope_cache):
    """Apply the RoPE to the input tensor x."""
    # TODO: [part g]
    # You might find the following functions useful:
    # torch.view_as_complex
    # torch.view_as_real
    # torch.reshape
    # torch.stack
    # torch.cat

    # You might also find it useful to
    # truncate the rope_cache to the length of the input tensor x.

    rotated_x = None
    ### YOUR CODE HERE ###
    T = x.shape[-2]
    cos = rope_cache[:T, :, 0]          # (T, hs/2), broadcasts over (B, nh)
    sin = rope_cache[:T, :, 1]
    x_even = x[..., 0::2]               # x_{2i}
    x_odd = x[..., 1::2]                # x_{2i+1}
    rot_even = x_even * cos - x_odd * sin
    rot_odd = x_even * sin + x_odd * cos
    # interleave back: (..., hs/2, 2) -> (..., hs)
    rotated_x = torch.stack([rot_even, rot_odd], dim=-1).reshape(x.shape)
    ### END YOUR CODE ###
    return rotated_x


class CausalSelfAttention(nn.Module):
    """
    Multi-head masked self-attention with one fused projection for the keys, queries and values
    (in the starter's key, query, value order), and a projection at the end.
    """

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads, in one matrix multiply
        self.kqv = nn.Linear(config.n_embd, 3 * config.n_embd)

        self.rope = config.rope
        if self.rope:
            assert (config.n_embd % config.n_head) % 2 == 0
            rope_cache = precompute_rotary_emb(config.n_embd // config.n_head, config.block_size)
            self.register_buffer("rope_cache", rope_cache)

        # regularization
        self.attn_drop = nn.Dropout(config.attn_pdrop)
        self.resid_drop = nn.Dropout(config.resid_pdrop)
        # output projection
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        # causal mask to ensure that attention is only applied to the left in the input sequence
        self.register_buffer("mask", torch.tril(torch.ones(config.block_size, config.block_size))
                                     .view(1, 1, config.block_size, config.block_size))
        self.n_head = config.n_head

    def forward(self, x):
        B, T, C = x.size()
        k, q, v = self.kqv(x).chunk(3, dim=-1)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)

        if self.rope:
            q = apply_rotary_emb(q, self.rope_cache)
            k = apply_rotary_emb(k, self.rope_cache)

        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, -1e10)
        att = F.softmax(att, dim=-1)
        att = self.attn_drop(att)
        y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side
        return self.resid_drop(self.proj(y))
