# PA2: encoder, classifier and decoder, with per-head projections a (queries), b (keys) and c (values)
import torch
import torch.nn as nn
from torch.nn import functional as F


class OneHead(nn.Module):
    def __init__(self, n_embd, size, block_size, masked):
        super().__init__()
        self.a = nn.Linear(n_embd, size, bias=False)
        self.b = nn.Linear(n_embd, size, bias=False)
        self.c = nn.Linear(n_embd, size, bias=False)
        self.masked = masked
        self.register_buffer("lower", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x, pad=None):
        T, C = x.shape[1], x.shape[2]
        s = self.a(x) @ self.b(x).transpose(1, 2) * C ** -0.5  # divided by sqrt of the embedding width
        if self.masked:
            s = s.masked_fill(self.lower[:T, :T] == 0, float("-inf"))
        if pad is not None:
            s = s.masked_fill(pad[:, None, :], float("-inf"))
        p = F.softmax(s, dim=-1)
        return p @ self.c(x), p


class Heads(nn.Module):
    def __init__(self, n_embd, n_head, block_size, masked):
        super().__init__()
        self.parts = nn.ModuleList([OneHead(n_embd, n_embd // n_head, block_size, masked) for _ in range(n_head)])
        self.merge = nn.Linear(n_embd, n_embd)

    def forward(self, x, pad=None):
        outs = [h(x, pad) for h in self.parts]
        return self.merge(torch.cat([o for o, _ in outs], -1)), torch.stack([p for _, p in outs], 1)


class Layer(nn.Module):
    def __init__(self, n_embd, n_head, block_size, hidden, masked):
        super().__init__()
        self.att = Heads(n_embd, n_head, block_size, masked)
        self.mlp = nn.Sequential(nn.Linear(n_embd, hidden), nn.ReLU(), nn.Linear(hidden, n_embd))
        self.norm_a, self.norm_b = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)

    def forward(self, x, pad=None):
        y, p = self.att(self.norm_a(x), pad)
        x = x + y
        return x + self.mlp(self.norm_b(x)), p


class Body(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, hidden, masked):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, n_embd)
        self.positions = nn.Embedding(block_size, n_embd)
        self.layers = nn.ModuleList([Layer(n_embd, n_head, block_size, hidden, masked) for _ in range(n_layer)])
        self.masked = masked

    def forward(self, idx):
        pad = None if self.masked else idx == 0
        x = self.tokens(idx) + self.positions(torch.arange(idx.shape[1], device=idx.device))
        maps = []
        for layer in self.layers:
            x, p = layer(x, pad)
            maps.append(p)
        return x, maps


class Encoder(Body):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, masked=False)


class Classifier(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.encoder = Encoder(vocab_size, n_embd, n_head, n_layer, block_size)
        self.ff = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx):
        x, maps = self.encoder(idx)
        real = (idx != 0).unsqueeze(-1).float()
        return self.ff((x * real).sum(1) / real.sum(1).clamp(min=1)), maps


class Decoder(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden):
        super().__init__()
        self.body = Body(vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, masked=True)
        self.to_vocab = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        x, maps = self.body(idx)
        logits = self.to_vocab(x)
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
