"""PA2 with fused multi-head attention: one Linear gives queries, keys and values, split into heads as
(B, n_head, T, head_dim). The encoder's padding mask is indexed [None, :, None, :]."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x, allowed):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in self.qkv(x).split(C, -1))
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        weights = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(B, T, C)), weights


class Layer(nn.Module):
    def __init__(self, n_embd, n_head, n_hidden):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = Attention(n_embd, n_head)
        self.ff = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_embd))

    def forward(self, x, allowed):
        a, weights = self.attn(self.norm1(x), allowed)
        x = x + a
        return x + self.ff(self.norm2(x)), weights


def run_layers(layers, x, allowed):
    maps = []
    for layer in layers:
        x, weights = layer(x, allowed)
        maps.append(weights)
    return x, maps


class SpeechEncoder(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
        self.layers = nn.ModuleList(Layer(n_embd, n_head, 4 * n_embd) for _ in range(n_layer))
        self.norm = nn.LayerNorm(n_embd)

    def forward(self, idx):
        x = self.tokens(idx) + self.positions(torch.arange(idx.size(1), device=idx.device))
        x, maps = run_layers(self.layers, x, (idx != 0)[None, :, None, :])
        return self.norm(x), maps


class SpeakerClassifier(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.encoder = SpeechEncoder(vocab_size, n_embd, n_head, n_layer, block_size)
        self.out = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx):
        x, maps = self.encoder(idx)
        real = (idx != 0).float().unsqueeze(-1)
        return self.out((x * real).sum(1) / real.sum(1).clamp(min=1.0)), maps


class LanguageModel(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
        self.layers = nn.ModuleList(Layer(n_embd, n_head, n_hidden) for _ in range(n_layer))
        self.norm, self.lm_head = nn.LayerNorm(n_embd), nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        T = idx.size(1)
        x = self.tokens(idx) + self.positions(torch.arange(T, device=idx.device))
        x, maps = run_layers(self.layers, x, torch.ones(T, T, dtype=torch.bool, device=idx.device).tril())
        logits = self.lm_head(self.norm(x))
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
