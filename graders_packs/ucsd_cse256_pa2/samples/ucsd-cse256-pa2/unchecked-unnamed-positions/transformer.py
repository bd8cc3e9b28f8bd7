# PA2 models with a learned position table kept as a bare parameter named `where`
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, future_hidden):
        super().__init__()
        self.n_head, self.future_hidden = n_head, future_hidden
        self.query = nn.Linear(n_embd, n_embd)
        self.key = nn.Linear(n_embd, n_embd)
        self.value = nn.Linear(n_embd, n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def heads(self, t):
        B, T, C = t.shape
        return t.reshape(B, T, self.n_head, C // self.n_head).permute(0, 2, 1, 3)

    def forward(self, x, blocked=None):
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        att = torch.einsum("bhid,bhjd->bhij", q, k) / math.sqrt(q.shape[-1])
        T = x.shape[1]
        if self.future_hidden:
            att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), 1), -math.inf)
        if blocked is not None:
            att = att.masked_fill(blocked[:, None, None, :], -math.inf)
        att = F.softmax(att, dim=-1)
        y = torch.einsum("bhij,bhjd->bhid", att, v).permute(0, 2, 1, 3).flatten(2)
        return self.proj(y), att


class Block(nn.Module):
    def __init__(self, n_embd, n_head, n_hidden, future_hidden):
        super().__init__()
        self.attn = SelfAttention(n_embd, n_head, future_hidden)
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.ffn = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_embd))

    def forward(self, x, blocked=None):
        y, att = self.attn(self.ln1(x), blocked)
        x = x + y
        return x + self.ffn(self.ln2(x)), att


class Stack(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, future_hidden):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.where = nn.Parameter(torch.randn(block_size, n_embd) / math.sqrt(n_embd))
        self.blocks = nn.ModuleList([Block(n_embd, n_head, n_hidden, future_hidden) for _ in range(n_layer)])
        self.future_hidden = future_hidden

    def forward(self, idx):
        blocked = None if self.future_hidden else idx == 0
        x = self.tok(idx) + self.where[:idx.shape[1]]
        maps = []
        for block in self.blocks:
            x, att = block(x, blocked)
            maps.append(att)
        return x, maps


class TransformerEncoder(Stack):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, future_hidden=False)


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.encoder = TransformerEncoder(vocab_size, n_embd, n_head, n_layer, block_size)
        self.mlp = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx):
        x, maps = self.encoder(idx)
        real = (idx != 0).unsqueeze(-1).to(x.dtype)
        return self.mlp((x * real).sum(1) / real.sum(1).clamp(min=1)), maps


class TransformerDecoder(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden):
        super().__init__()
        self.stack = Stack(vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, future_hidden=True)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        x, maps = self.stack(idx)
        logits = self.lm_head(x)
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
