import math

import torch
from torch import nn
from torch.nn import functional as F


class SelfAttention(nn.Module):
    """Multi-head attention; `mask` is 1 (or True) where a key may be attended to."""

    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(n_embd, n_embd, bias=False)
        self.key = nn.Linear(n_embd, n_embd, bias=False)
        self.value = nn.Linear(n_embd, n_embd, bias=False)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x, mask):
        B, T, C = x.shape
        heads = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # noqa: E731
        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = (k @ q.transpose(-2, -1)).transpose(-2, -1) / math.sqrt(C // self.n_head)
        weights = scores.masked_fill(mask == 0, float("-inf")).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(B, T, C)), weights


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.attn = SelfAttention(n_embd, n_head)
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.ff = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x, mask):
        h, weights = self.attn(self.ln1(x), mask)
        x = x + h
        return x + self.ff(self.ln2(x)), weights


class Stack(nn.Module):
    """Embeddings and blocks, built directly on `device` as main.py asks."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, device):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, n_embd, device=device)
        self.positions = nn.Embedding(block_size, n_embd, device=device)
        self.blocks = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)]).to(device)
        self.device = device

    def run(self, x, mask):
        h = self.tokens(x) + self.positions(torch.arange(x.shape[1], device=self.device))
        maps = []
        for block in self.blocks:
            h, weights = block(h, mask)
            maps.append(weights)
        return h, maps


class Encoder(Stack):
    def forward(self, x, mask, return_attention=False):
        h, maps = self.run(x, mask)
        return (h, maps) if return_attention else h


class Decoder(Stack):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, device):
        super().__init__(vocab_size, n_embd, n_head, n_layer, block_size, device)
        self.head = nn.Linear(n_embd, vocab_size, device=device)

    def forward(self, x, mask, targets=None, return_attention=False):
        h, maps = self.run(x, mask)
        logits = self.head(h)
        if targets is not None:
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
        return (logits, maps) if return_attention else logits
