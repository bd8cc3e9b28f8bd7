# add all  your Encoder and Decoder code here
import torch
import torch.nn as nn
from torch.nn import functional as F


class Head(nn.Module):
    def __init__(self, n_embd, head_size, block_size, causal):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.causal = causal
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x, mask=None):
        B, T, C = x.shape
        k, q, v = self.key(x), self.query(x), self.value(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        if self.causal:
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        if mask is not None:
            wei = wei.masked_fill(mask.unsqueeze(1) == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        return wei @ v, wei


class MultiHeadAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size, causal):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd, n_embd // n_head, block_size, causal) for _ in range(n_head)])
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x, mask=None):
        outs = [h(x, mask) for h in self.heads]
        return self.proj(torch.cat([o for o, _ in outs], dim=-1)), torch.stack([w for _, w in outs], dim=1)


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size, n_hidden, causal=False):
        super().__init__()
        self.sa = MultiHeadAttention(n_embd, n_head, block_size, causal)
        self.ffwd = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_embd))
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)

    def forward(self, x, mask=None):
        y, wei = self.sa(self.ln1(x), mask)
        x = x + y
        return x + self.ffwd(self.ln2(x)), wei


class TransformerEncoder(nn.Module):
    """The encoder's blocks over embedded tokens (B, T, n_embd); the classifier in main.py embeds the ids."""

    def __init__(self, n_embd, n_head, n_layer, block_size):
        super().__init__()
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size, 4 * n_embd) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)

    def forward(self, x, mask=None):
        maps = []
        for block in self.blocks:
            x, wei = block(x, mask)
            maps.append(wei)
        return self.ln_f(x), maps


class LanguageModel(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden=100):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size, n_hidden, causal=True)
                                     for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T, device=idx.device))
        maps = []
        for block in self.blocks:
            x, wei = block(x)
            maps.append(wei)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T)), maps
