"""One GPT-like model for both parts: config.causal picks the decoder. Fused qkv projection, sinusoidal positions."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalOrNotSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.n_head = config.n_head
        self.causal = config.causal

    def forward(self, x, key_mask):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        if self.causal:
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            att = att.masked_fill(~causal, float("-inf"))
        else:
            att = att.masked_fill(~key_mask[:, None, None, :], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y), att


class GPTBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalOrNotSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                                 nn.Linear(4 * config.n_embd, config.n_embd))

    def forward(self, x, key_mask):
        a, att = self.attn(self.ln_1(x), key_mask)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, att


def sinusoidal(T, C, device):
    pos = torch.arange(T, device=device, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, C, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / C))
    pe = torch.zeros(T, C, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.h = nn.ModuleList([GPTBlock(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd)
        if config.causal:
            self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        else:
            self.head = nn.Sequential(nn.Linear(config.n_embd, config.n_hidden), nn.ReLU(),
                                      nn.Linear(config.n_hidden, config.n_output))

    def forward(self, idx, targets=None):
        B, T = idx.size()
        key_mask = idx != 0
        x = self.wte(idx) + sinusoidal(T, self.config.n_embd, idx.device)
        maps = []
        for block in self.h:
            x, att = block(x, key_mask)
            maps.append(att)
        x = self.ln_f(x)
        maps = torch.stack(maps)  # (n_layer, B, n_head, T, T)
        if self.config.causal:
            logits = self.head(x)
            if targets is not None:
                return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return logits, maps
        w = key_mask.unsqueeze(-1).float()
        logits = self.head((x * w).sum(1) / w.sum(1).clamp(min=1.0))
        return logits, maps
