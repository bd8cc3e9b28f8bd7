import math
import torch
from torch import nn


class Attention(nn.Module):
    """Multi-head attention with raw weight matrices, applied as x @ W, and einsum for the scores."""

    def __init__(self, d_model, num_heads, causal=False):
        super().__init__()
        self.h = num_heads
        self.d_k = d_model // num_heads
        self.causal = causal
        self.W_q = nn.Parameter(torch.randn(d_model, d_model) / math.sqrt(d_model))
        self.W_k = nn.Parameter(torch.randn(d_model, d_model) / math.sqrt(d_model))
        self.W_v = nn.Parameter(torch.randn(d_model, d_model) / math.sqrt(d_model))
        self.W_o = nn.Linear(d_model, d_model)

    def forward(self, x, padding=None):
        B, T, D = x.shape
        q = (x @ self.W_q).reshape(B, T, self.h, self.d_k)
        k = (x @ self.W_k).reshape(B, T, self.h, self.d_k)
        v = (x @ self.W_v).reshape(B, T, self.h, self.d_k)
        scores = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(self.d_k)
        if self.causal:
            future = torch.triu(torch.ones(T, T, device=x.device), diagonal=1).bool()
            scores = scores.masked_fill(future, -1e9)
        if padding is not None:
            scores = scores.masked_fill(padding[:, None, None, :], -1e9)
        probs = scores.softmax(dim=-1)
        out = torch.einsum("bhij,bjhd->bihd", probs, v).reshape(B, T, D)
        return self.W_o(out), probs.mean(dim=1)  # one map per layer: the mean over heads


class Layer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, causal):
        super().__init__()
        self.attn = Attention(d_model, num_heads, causal)
        self.norm1 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x, padding=None):
        a, p = self.attn(x, padding)
        x = self.norm1(x + a)
        return self.norm2(x + self.ff(x)), p


class Encoder(nn.Module):
    def __init__(self, vocab, d_model, num_heads, num_layers, max_len, d_ff=256):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab, d_model, padding_idx=0)
        self.pos = nn.Embedding(max_len, d_model)
        self.layers = nn.ModuleList(Layer(d_model, num_heads, d_ff, False) for _ in range(num_layers))

    def forward(self, tokens):
        padding = tokens == 0
        x = self.embed(tokens) * math.sqrt(self.d_model) + self.pos(torch.arange(tokens.shape[1], device=tokens.device))
        maps = []
        for layer in self.layers:
            x, p = layer(x, padding)
            maps.append(p)
        return x, maps


class FeedForwardClassifier(nn.Module):
    def __init__(self, n_input, n_hidden, n_output):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_input, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, x):
        return self.net(x)


class EncoderClassifier(nn.Module):
    def __init__(self, vocab, d_model, num_heads, num_layers, max_len, n_hidden, num_classes):
        super().__init__()
        self.encoder = Encoder(vocab, d_model, num_heads, num_layers, max_len)
        self.classifier = FeedForwardClassifier(d_model, n_hidden, num_classes)

    def forward(self, tokens):
        x, maps = self.encoder(tokens)
        return self.classifier(x.mean(1)), maps


class Decoder(nn.Module):
    def __init__(self, vocab, d_model, num_heads, num_layers, max_len, d_ff):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.layers = nn.ModuleList(Layer(d_model, num_heads, d_ff, True) for _ in range(num_layers))
        self.out = nn.Linear(d_model, vocab)

    def forward(self, tokens, targets=None):
        x = self.embed(tokens) * math.sqrt(self.d_model) + self.pos(torch.arange(tokens.shape[1], device=tokens.device))
        maps = []
        for layer in self.layers:
            x, p = layer(x)
            maps.append(p)
        logits = self.out(x)
        loss = None
        if targets is not None:
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss, maps
