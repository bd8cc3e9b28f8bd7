"""UCSD CSE 256 PA2: a transformer encoder with a speech classifier, and a GPT-style decoder.

minGPT-style, pre-LN, learned positions. Every model returns its attention maps: one (B, n_head, T, T) tensor
per layer, which the starter's utilities.sanity_check plots. Token id 0 is padding: the encoder's attention
gives padding columns no weight and the classifier averages only real tokens.
"""
import math

import torch
import torch.nn as nn
from torch.nn import functional as F
from torch.nn.functional import scaled_dot_product_attention


def alibi_slopes(n_head):
    """ALiBi's head slopes (Press et al., 2022): 2^(-8/n), 2^(-16/n), ... for n a power of 2; otherwise those of
    the closest smaller power of 2, then every other slope of twice as many heads."""
    if math.log2(n_head).is_integer():
        return [2 ** (-8 * (h + 1) / n_head) for h in range(n_head)]
    closest = 2 ** math.floor(math.log2(n_head))
    return alibi_slopes(closest) + alibi_slopes(2 * closest)[0::2][:n_head - closest]


def alibi_bias(n_head, T, device=None):
    """(h, T, T): -slope_h * |i - j|, added to the scores in place of position embeddings."""
    pos = torch.arange(T, device=device)
    slopes = torch.tensor(alibi_slopes(n_head), device=device)
    return -slopes[:, None, None] * (pos[None, :] - pos[:, None]).abs()


def attention_probs(q, k, causal=False, keys=None, bias=None):
    """softmax(q k^T / sqrt(head_dim) + bias) for q, k of shape (B, h, T, d); `keys` (B, T) is False where a key
    is padding; `causal` hides the future."""
    T = q.size(-2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if bias is not None:
        scores = scores + bias
    if causal:
        scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool, device=q.device).tril(), float("-inf"))
    if keys is not None:
        scores = scores.masked_fill(~keys[:, None, None, :], float("-inf"))
    return F.softmax(scores, dim=-1)


def mix_values(q, k, v, mask):
    """Each position's mix of the values, heads kept apart: (B, h, T, d)."""
    return scaled_dot_product_attention(q, k, v, attn_mask=mask)


def score_mask(T, causal, keys, bias, device, dtype):
    """What attention_probs adds to the scores, as one additive mask: (1 or B, 1 or h, T, T)."""
    mask = torch.zeros(1, 1, T, T, device=device, dtype=dtype)
    if bias is not None:
        mask = mask + bias
    if causal:
        mask = mask.masked_fill(~torch.ones(T, T, dtype=torch.bool, device=device).tril(), float("-inf"))
    if keys is not None:
        mask = mask.masked_fill(~keys[:, None, None, :], float("-inf"))
    return mask


class SelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, causal):
        super().__init__()
        self.n_head, self.causal = n_head, causal
        self.query, self.key, self.value = (nn.Linear(n_embd, n_embd) for _ in range(3))
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x, keys=None, bias=None):
        B, T, C = x.shape
        q, k, v = (f(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                   for f in (self.query, self.key, self.value))
        att = attention_probs(q, k, self.causal, keys, bias)
        mask = score_mask(T, self.causal, keys, bias, x.device, q.dtype)
        y = mix_values(q, k, v, mask).transpose(1, 2).reshape(B, T, C)
        return self.proj(y), att


class Block(nn.Module):
    def __init__(self, n_embd, n_head, n_hidden, causal):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = SelfAttention(n_embd, n_head, causal)
        self.mlp = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_embd))

    def forward(self, x, keys=None, bias=None):
        y, att = self.attn(self.ln1(x), keys, bias)
        x = x + y
        return x + self.mlp(self.ln2(x)), att


class Transformer(nn.Module):
    """Token and position embeddings (or ALiBi biases, part 3), n_layer blocks, a final layer norm:
    (B, T) ids -> ((B, T, C), maps)."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, causal, alibi=False):
        super().__init__()
        self.causal, self.n_head, self.alibi = causal, n_head, alibi
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = None if alibi else nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, n_hidden, causal) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)

    def forward(self, idx):
        keys = None if self.causal else idx != 0
        T = idx.size(1)
        x = self.tok_emb(idx)
        if self.alibi:
            bias = alibi_bias(self.n_head, T, idx.device)
        else:
            bias, x = None, x + self.pos_emb(torch.arange(T, device=idx.device))
        maps = []
        for block in self.blocks:
            x, att = block(x, keys, bias)
            maps.append(att)
        return self.ln_f(x), maps


class Encoder(Transformer):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__(vocab_size, n_embd, n_head, n_layer, block_size, 4 * n_embd, causal=False)


class Classifier(nn.Module):
    """The encoder's mean over real tokens, then one hidden layer: (B, T) ids -> ((B, n_output) logits, maps)."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output):
        super().__init__()
        self.encoder = Encoder(vocab_size, n_embd, n_head, n_layer, block_size)
        self.head = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx):
        x, maps = self.encoder(idx)
        real = (idx != 0).unsqueeze(-1).to(x.dtype)
        pooled = (x * real).sum(1) / real.sum(1).clamp(min=1)
        return self.head(pooled), maps


class Decoder(nn.Module):
    """(B, T) ids -> ((B, T, vocab) logits, maps); with targets, the mean cross-entropy loss as the starter's
    compute_perplexity expects."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, alibi=False):
        super().__init__()
        self.transformer = Transformer(vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, True, alibi)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        x, maps = self.transformer(idx)
        logits = self.lm_head(x)
        if targets is None:
            return logits, maps
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())
