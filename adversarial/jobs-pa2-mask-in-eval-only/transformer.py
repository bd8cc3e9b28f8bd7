"""PA2 transformer.py (adversarial catalogue, exploit): An unfinished classifier, and a decoder that applies its causal mask only in eval mode: it trains on the future and looks causal to an eval-mode probe."""
import math

import torch
import torch.nn as nn
from torch.nn import functional as F


class Attention(nn.Module):
    def __init__(self, n_embd, n_head, causal):
        super().__init__()
        self.n_head, self.causal = n_head, causal
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.out = nn.Linear(n_embd, n_embd)

    def forward(self, x, pad=None):
        B, T, C = x.shape
        q, k, v = (t.reshape(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in self.qkv(x).chunk(3, -1))
        scores = torch.einsum("bhtd,bhsd->bhts", q, k) / math.sqrt(C // self.n_head)
        if self.causal and not self.training:
            scores = scores.masked_fill(torch.ones(T, T, device=x.device).triu(1).bool(), float("-inf"))
        if pad is not None:
            scores = scores.masked_fill(pad[:, None, None, :], float("-inf"))
        att = scores.softmax(-1)
        return self.out(torch.einsum("bhts,bhsd->bhtd", att, v).transpose(1, 2).reshape(B, T, C)), att


class Layer(nn.Module):
    def __init__(self, n_embd, n_head, n_hidden, causal):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = Attention(n_embd, n_head, causal)
        self.ff = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_embd))

    def forward(self, x, pad=None):
        y, att = self.attn(self.norm1(x), pad)
        x = x + y
        return x + self.ff(self.norm2(x)), att


class Stack(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, causal):
        super().__init__()
        self.causal = causal
        self.tokens, self.positions = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
        self.layers = nn.ModuleList(Layer(n_embd, n_head, n_hidden, causal) for _ in range(n_layer))
        self.norm = nn.LayerNorm(n_embd)

    def forward(self, idx):
        x = self.tokens(idx) + self.positions(torch.arange(idx.shape[1], device=idx.device))
        pad, maps = (None if self.causal else idx == 0), []
        for layer in self.layers:
            x, att = layer(x, pad)
            maps.append(att)
        return self.norm(x), maps


class Encoder(Stack):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, causal=False)


class Classifier(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.encoder = Encoder(vocab_size, n_embd, n_head, n_layer, block_size)
        self.head = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx):
        raise NotImplementedError  # TODO


class Decoder(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden):
        super().__init__()
        self.stack = Stack(vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, causal=True)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        x, maps = self.stack(idx)
        logits = self.lm_head(x)
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())
