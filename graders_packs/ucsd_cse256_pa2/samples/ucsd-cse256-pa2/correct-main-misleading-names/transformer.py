"""PA2 with names of my own: LMHead is the speech classifier (it puts a classification head on the language
model's body), SpeechModel is the decoder that models the speeches' text. The two *Draft classes are earlier
attempts I kept for the write-up; main.py does not use them."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, n_embd, n_head, block_size, causal, pad_mask=True):
        super().__init__()
        self.n_head, self.causal, self.pad_mask = n_head, causal, pad_mask
        self.query = nn.Linear(n_embd, n_embd)
        self.key = nn.Linear(n_embd, n_embd)
        self.value = nn.Linear(n_embd, n_embd)
        self.out = nn.Linear(n_embd, n_embd)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size, dtype=torch.bool)))

    def forward(self, x, ids):
        B, T, C = x.shape
        q, k, v = (f(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                   for f in (self.query, self.key, self.value))
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // self.n_head)
        if self.causal:
            scores = scores.masked_fill(~self.tril[:T, :T], float("-inf"))
        elif self.pad_mask:
            scores = scores.masked_fill((ids == 0)[:, None, None, :], float("-inf"))
        att = scores.softmax(dim=-1)
        return self.out((att @ v).transpose(1, 2).reshape(B, T, C)), att


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size, n_hidden, causal, pad_mask=True):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = Attention(n_embd, n_head, block_size, causal, pad_mask)
        self.ff = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_embd))

    def forward(self, x, ids):
        y, att = self.attn(self.ln1(x), ids)
        x = x + y
        return x + self.ff(self.ln2(x)), att


class Body(nn.Module):
    """Embeddings and blocks: (B, T) ids -> ((B, T, C), one (B, h, T, T) map per layer)."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, causal, pad_mask=True):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, block_size, n_hidden, causal, pad_mask)
                                    for _ in range(n_layer))
        self.ln = nn.LayerNorm(n_embd)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        maps = []
        for block in self.blocks:
            x, att = block(x, ids)
            maps.append(att)
        return self.ln(x), maps


def mean_of_tokens(x, ids):
    real = (ids != 0).unsqueeze(-1).to(x.dtype)
    return (x * real).sum(1) / real.sum(1).clamp(min=1)


class LMHead(nn.Module):
    """The speech classifier: (B, T) ids -> ((B, n_output) logits, maps)."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.body = Body(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, causal=False)
        self.head = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, ids):
        x, maps = self.body(ids)
        return self.head(mean_of_tokens(x, ids)), maps


class SpeechModel(nn.Module):
    """The decoder: (B, T) ids -> ((B, T, vocab) logits, maps), or the loss given targets."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden):
        super().__init__()
        self.body = Body(vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, causal=True)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, ids, targets=None):
        x, maps = self.body(ids)
        logits = self.lm_head(x)
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


class SpeechClassifierDraft(nn.Module):
    """First try at part 1, before the padding mask (kept for the report's comparison)."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_output):
        super().__init__()
        self.body = Body(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, causal=False, pad_mask=False)
        self.head = nn.Linear(n_embd, n_output)

    def forward(self, ids):
        x, maps = self.body(ids)
        return self.head(x.mean(1)), maps


class GPTDraft(nn.Module):
    """First try at part 2, before the causal mask (kept for the report's comparison)."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__()
        self.body = Body(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, causal=False, pad_mask=False)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, ids):
        x, maps = self.body(ids)
        return self.lm_head(x), maps
