import torch
import torch.nn as nn
import torch.nn.functional as F

# Set by configure() from main.py before any model is built.
vocab_size = None
n_embd = None
n_head = None
n_layer = None
block_size = None


def configure(vocab, embd, heads, layers, context):
    global vocab_size, n_embd, n_head, n_layer, block_size
    vocab_size, n_embd, n_head, n_layer, block_size = vocab, embd, heads, layers, context


class Head(nn.Module):
    def __init__(self, causal):
        super().__init__()
        size = n_embd // n_head
        self.q = nn.Linear(n_embd, size, bias=False)
        self.k = nn.Linear(n_embd, size, bias=False)
        self.v = nn.Linear(n_embd, size, bias=False)
        self.causal = causal
        self.register_buffer("lower", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x, pad):
        T = x.shape[1]
        q, k = self.q(x), self.k(x)
        weights = q @ k.transpose(1, 2) * k.shape[-1] ** -0.5
        weights = weights.masked_fill(pad[:, None, :], float("-inf"))
        if self.causal:
            weights = weights.masked_fill(self.lower[:T, :T] == 0, float("-inf"))
        weights = F.softmax(weights, dim=-1)
        return weights @ self.v(x), weights


class Layer(nn.Module):
    def __init__(self, causal):
        super().__init__()
        self.heads = nn.ModuleList([Head(causal) for _ in range(n_head)])
        self.merge = nn.Linear(n_embd, n_embd)
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.ff = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x, pad):
        outs = [head(self.ln1(x), pad) for head in self.heads]
        x = x + self.merge(torch.cat([o for o, _ in outs], dim=-1))
        return x + self.ff(self.ln2(x)), [w for _, w in outs]


class TransformerEncoder(nn.Module):
    def __init__(self, causal=False):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.layers = nn.ModuleList([Layer(causal) for _ in range(n_layer)])

    def forward(self, idx):
        pad = idx == 0
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        maps = []
        for layer in self.layers:
            x, weights = layer(x, pad)
            maps.append(torch.stack(weights, dim=1))
        return x, maps


class TransformerDecoder(TransformerEncoder):
    def __init__(self):
        super().__init__(causal=True)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        x, maps = super().forward(idx)
        logits = self.lm_head(x)
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())
