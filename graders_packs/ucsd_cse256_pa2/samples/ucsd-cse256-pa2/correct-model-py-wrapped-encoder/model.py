import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, d_model, heads, causal):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.w_q = nn.Parameter(torch.randn(heads, d_model, d_model // heads) * d_model ** -0.5)
        self.w_k = nn.Parameter(torch.randn(heads, d_model, d_model // heads) * d_model ** -0.5)
        self.w_v = nn.Parameter(torch.randn(heads, d_model, d_model // heads) * d_model ** -0.5)
        self.w_o = nn.Linear(d_model, d_model)

    def forward(self, x, keep):
        q = torch.einsum("btd,hde->bhte", x, self.w_q)
        k = torch.einsum("btd,hde->bhte", x, self.w_k)
        v = torch.einsum("btd,hde->bhte", x, self.w_v)
        scores = torch.einsum("bhqe,bhke->bhqk", q, k) * q.shape[-1] ** -0.5
        allowed = keep[:, None, None, :]
        if self.causal:
            allowed = allowed & torch.ones(x.shape[1], x.shape[1], dtype=torch.bool, device=x.device).tril()
        probs = scores.masked_fill(~allowed, float("-inf")).softmax(-1)
        out = torch.einsum("bhqk,bhke->bqhe", probs, v).flatten(2)
        return self.w_o(out), probs


class Layer(nn.Module):
    def __init__(self, d_model, heads, d_ff, causal):
        super().__init__()
        self.attn = Attention(d_model, heads, causal)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))

    def forward(self, x, keep):
        a, probs = self.attn(self.norm1(x), keep)
        x = x + a
        return x + self.mlp(self.norm2(x)), probs


class Encoder(nn.Module):
    def __init__(self, vocab_size, d_model, heads, layers, block_size, d_ff, causal=False):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(block_size, d_model)
        self.stack = nn.ModuleList([Layer(d_model, heads, d_ff, causal) for _ in range(layers)])

    def forward(self, ids):
        keep = ids != 0
        x = self.embed(ids) + self.position(torch.arange(ids.shape[1], device=ids.device))
        maps = []
        for layer in self.stack:
            x, probs = layer(x, keep)
            maps.append(probs)
        return x, maps


class SpeechClassifier(nn.Module):
    """The encoder, its outputs averaged over real tokens, and a feed-forward head: logits only."""

    def __init__(self, vocab_size, d_model, heads, layers, block_size, d_ff, n_classes):
        super().__init__()
        self.encoder = Encoder(vocab_size, d_model, heads, layers, block_size, d_ff)
        self.head = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, n_classes))

    def forward(self, ids):
        h, _ = self.encoder(ids)
        keep = (ids != 0).unsqueeze(-1).float()
        return self.head((h * keep).sum(1) / keep.sum(1).clamp(min=1))


class LanguageModel(nn.Module):
    def __init__(self, vocab_size, d_model, heads, layers, block_size, d_ff):
        super().__init__()
        self.encoder = Encoder(vocab_size, d_model, heads, layers, block_size, d_ff, causal=True)
        self.out = nn.Linear(d_model, vocab_size)

    def forward(self, ids):
        h, maps = self.encoder(ids)
        return self.out(h), maps
