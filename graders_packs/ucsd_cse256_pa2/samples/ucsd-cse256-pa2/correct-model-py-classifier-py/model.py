"""Transformer pieces for PA2: attention, blocks and the GPT-style language model."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, is_causal):
        super().__init__()
        self.h = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=False)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=False)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=False)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.is_causal = is_causal

    def forward(self, x, key_padding=None):
        B, T, E = x.shape
        d = E // self.h
        q = self.q_proj(x).reshape(B, T, self.h, d).transpose(1, 2)
        k = self.k_proj(x).reshape(B, T, self.h, d).transpose(1, 2)
        v = self.v_proj(x).reshape(B, T, self.h, d).transpose(1, 2)
        scores = torch.einsum("bhqd,bhkd->bhqk", q, k) / d ** 0.5
        if self.is_causal:
            scores = scores + torch.full((T, T), float("-inf"), device=x.device).triu(1)
        if key_padding is not None:  # (B, T): True where the token is padding
            scores = scores.masked_fill(key_padding[:, None, None, :], float("-inf"))
        probs = scores.softmax(dim=-1)
        out = torch.einsum("bhqk,bhkd->bhqd", probs, v).transpose(1, 2).reshape(B, T, E)
        return self.out_proj(out), probs


class Block(nn.Module):
    def __init__(self, embed_dim, num_heads, hidden_dim, is_causal=False):
        super().__init__()
        self.attn = SelfAttention(embed_dim, num_heads, is_causal)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, embed_dim))
        self.ln_a = nn.LayerNorm(embed_dim)
        self.ln_b = nn.LayerNorm(embed_dim)

    def forward(self, x, key_padding=None):
        y, probs = self.attn(self.ln_a(x), key_padding)
        x = x + y
        return x + self.mlp(self.ln_b(x)), probs


class GPT(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_heads, num_layers, block_size, hidden_dim=100):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, embed_dim)
        self.positions = nn.Embedding(block_size, embed_dim)
        self.layers = nn.ModuleList(Block(embed_dim, num_heads, hidden_dim, is_causal=True)
                                    for _ in range(num_layers))
        self.ln = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, vocab_size)

    def forward(self, idx, targets=None):
        x = self.tokens(idx) + self.positions(torch.arange(idx.shape[1], device=idx.device))
        probs = []
        for layer in self.layers:
            x, p = layer(x)
            probs.append(p)
        logits = self.head(self.ln(x))
        if targets is None:
            return logits, probs
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten()), probs
