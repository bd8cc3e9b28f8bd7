# Part 1: encoder + classifier. The encoder's attention lives here; the feed-forward layer is transformer.py's.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from transformer import FeedForward


class EncoderSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(n_embd, n_embd)
        self.key = nn.Linear(n_embd, n_embd)
        self.value = nn.Linear(n_embd, n_embd)
        self.out = nn.Linear(n_embd, n_embd)

    def forward(self, x, mask):
        B, T, C = x.size()
        q = self.query(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = self.key(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = self.value(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C)
        att = att.masked_fill(mask[:, None, None, :] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.out(y), att


class EncoderBlock(nn.Module):
    def __init__(self, n_embd, n_head, n_hidden):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = EncoderSelfAttention(n_embd, n_head)
        self.mlp = FeedForward(n_embd, n_hidden)

    def forward(self, x, mask):
        a, att = self.attn(self.ln_1(x), mask)
        x = x + a
        return x + self.mlp(self.ln_2(x)), att


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([EncoderBlock(n_embd, n_head, 4 * n_embd) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx):
        mask = (idx != 0).long()
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1), device=idx.device))
        maps = []
        for block in self.blocks:
            x, att = block(x, mask)
            maps.append(att)
        x = self.ln_f(x)
        pooled = (x * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return self.head(pooled), maps
