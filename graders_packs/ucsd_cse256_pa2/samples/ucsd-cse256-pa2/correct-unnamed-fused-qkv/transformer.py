"""PA2 transformer: one fused projection per layer whose output is cut into values, queries and keys (in that
order), pre-norm blocks, a learned position table, and attention maps returned per layer as (B, heads, T, T)."""
import torch
from torch import nn
from torch.nn import functional as F


class Mixer(nn.Module):
    def __init__(self, width, heads, causal):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.mix = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def split(self, t):
        return t.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def forward(self, x, keep=None):
        v, q, k = map(self.split, self.mix(x).chunk(3, dim=-1))
        logits = torch.matmul(q, k.transpose(-1, -2)) * q.size(-1) ** -0.5
        n = x.size(1)
        allowed = torch.ones(n, n, dtype=torch.bool, device=x.device)
        if self.causal:
            allowed = allowed.tril()
        allowed = allowed if keep is None else allowed & keep[:, None, None, :]
        weights = torch.where(allowed, logits, torch.finfo(logits.dtype).min).softmax(-1)
        mixed = torch.matmul(weights, v).transpose(1, 2).flatten(2)
        return self.out(mixed), weights


class Layer(nn.Module):
    def __init__(self, width, heads, hidden, causal):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.att = Mixer(width, heads, causal)
        self.ff = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x, keep=None):
        y, weights = self.att(self.n1(x), keep)
        x = x + y
        return x + self.ff(self.n2(x)), weights


class Trunk(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, causal):
        super().__init__()
        self.lookup = nn.Embedding(vocab_size, n_embd)
        self.pos_table = nn.Parameter(0.02 * torch.randn(block_size, n_embd))
        self.layers = nn.ModuleList([Layer(n_embd, n_head, n_hidden, causal) for _ in range(n_layer)])
        self.causal = causal

    def forward(self, ids):
        keep = None if self.causal else ids != 0
        x = self.lookup(ids) + self.pos_table[:ids.size(1)]
        maps = []
        for layer in self.layers:
            x, weights = layer(x, keep)
            maps.append(weights)
        return x, maps


class TextEncoder(Trunk):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, causal=False)


class SpeakerNet(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.trunk = TextEncoder(vocab_size, n_embd, n_head, n_layer, block_size)
        self.top = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, ids):
        x, maps = self.trunk(ids)
        real = (ids != 0).float().unsqueeze(-1)
        return self.top((x * real).sum(1) / real.sum(1).clamp(min=1.0)), maps


class NextToken(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden):
        super().__init__()
        self.trunk = Trunk(vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, causal=True)
        self.unembed = nn.Linear(n_embd, vocab_size)

    def forward(self, ids, targets=None):
        x, maps = self.trunk(ids)
        logits = self.unembed(x)
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())
