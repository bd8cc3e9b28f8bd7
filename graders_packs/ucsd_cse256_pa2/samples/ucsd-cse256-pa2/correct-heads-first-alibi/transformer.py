"""PA2 with one module per attention head. Each layer returns its heads' maps stacked head first,
(n_head, B, T, T); the part 3 decoder replaces learned positions with ALiBi biases when use_alibi is set."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def distance_bias(n_head, T):
    """(n_head, T, T): head h adds -2^(-8(h+1)/n_head) * |i - j| to its scores."""
    slopes = 2.0 ** (-8.0 * torch.arange(1, n_head + 1) / n_head)
    steps = torch.arange(T)
    return -slopes.view(-1, 1, 1) * (steps.view(1, -1, 1) - steps.view(1, 1, -1)).abs()


class Head(nn.Module):
    def __init__(self, n_embd, head_size):
        super().__init__()
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)

    def forward(self, x, allowed, bias=None):
        q, k = self.query(x), self.key(x)
        scores = torch.bmm(q, k.transpose(1, 2)) / k.size(-1) ** 0.5
        if bias is not None:
            scores = scores + bias
        weights = F.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        return torch.bmm(weights, self.value(x)), weights


class MultiHead(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.heads = nn.ModuleList(Head(n_embd, n_embd // n_head) for _ in range(n_head))
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x, allowed, bias=None):
        outs, maps = zip(*(head(x, allowed, None if bias is None else bias[i]) for i, head in enumerate(self.heads)),
                         strict=True)
        return self.proj(torch.cat(outs, dim=-1)), torch.stack(maps)  # maps: (n_head, B, T, T)


class Layer(nn.Module):
    def __init__(self, n_embd, n_head, n_hidden):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = MultiHead(n_embd, n_head)
        self.ff = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.GELU(), nn.Linear(n_hidden, n_embd))

    def forward(self, x, allowed, bias=None):
        a, maps = self.attn(self.norm1(x), allowed, bias)
        x = x + a
        return x + self.ff(self.norm2(x)), maps


class SpeechEncoder(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
        self.layers = nn.ModuleList(Layer(n_embd, n_head, 4 * n_embd) for _ in range(n_layer))
        self.norm = nn.LayerNorm(n_embd)

    def forward(self, idx):
        T = idx.size(1)
        x = self.tokens(idx) + self.positions(torch.arange(T, device=idx.device))
        allowed = (idx != 0).unsqueeze(1).expand(-1, T, -1)  # padding keys (id 0) get no weight
        maps = []
        for layer in self.layers:
            x, m = layer(x, allowed)
            maps.append(m)
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
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, use_alibi=False):
        super().__init__()
        self.n_head, self.use_alibi = n_head, use_alibi
        self.tokens = nn.Embedding(vocab_size, n_embd)
        self.positions = None if use_alibi else nn.Embedding(block_size, n_embd)
        self.layers = nn.ModuleList(Layer(n_embd, n_head, n_hidden) for _ in range(n_layer))
        self.norm, self.lm_head = nn.LayerNorm(n_embd), nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        T = idx.size(1)
        x = self.tokens(idx)
        bias = distance_bias(self.n_head, T).to(idx.device) if self.use_alibi else None
        if not self.use_alibi:
            x = x + self.positions(torch.arange(T, device=idx.device))
        allowed = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril().unsqueeze(0)
        maps = []
        for layer in self.layers:
            x, m = layer(x, allowed, bias)
            maps.append(m)
        logits = self.lm_head(self.norm(x))
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
