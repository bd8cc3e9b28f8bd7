import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self attention. Returns the output and the attention weights (B, heads, T, T)."""

    def __init__(self, d_model, num_heads, causal=False):
        super().__init__()
        assert d_model % num_heads == 0
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.causal = causal
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def split(self, t):
        B, T, _ = t.shape
        return t.view(B, T, self.num_heads, self.d_k).permute(0, 2, 1, 3)

    def forward(self, x, pad_mask=None):
        B, T, D = x.shape
        Q, K, V = self.split(self.W_q(x)), self.split(self.W_k(x)), self.split(self.W_v(x))
        scores = torch.matmul(Q, K.transpose(2, 3)) / math.sqrt(self.d_k)
        if self.causal:
            future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))
        if pad_mask is not None:  # (B, T), True for real tokens
            scores = scores.masked_fill(~pad_mask[:, None, None, :], float("-inf"))
        weights = F.softmax(scores, dim=-1)
        out = torch.matmul(weights, V).permute(0, 2, 1, 3).reshape(B, T, D)
        return self.W_o(out), weights
