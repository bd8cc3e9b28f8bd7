# Transformer blocks shared by the classifier (classifier.py) and the decoder for language modeling.
import torch
import torch.nn as nn
import torch.nn.functional as F

from attention import MultiHeadSelfAttention


class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, causal=False):
        super().__init__()
        self.attn = MultiHeadSelfAttention(d_model, num_heads, causal)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))

    def forward(self, x, pad_mask=None):
        a, weights = self.attn(self.norm1(x), pad_mask)
        x = x + a
        x = x + self.ff(self.norm2(x))
        return x, weights


class Decoder(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, max_len, d_ff=100):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.layers = nn.ModuleList([TransformerBlock(d_model, num_heads, d_ff, causal=True)
                                     for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, vocab_size)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))
        attn_maps = []
        for layer in self.layers:
            x, w = layer(x)
            attn_maps.append(w)
        logits = self.out(self.norm(x))
        if targets is None:
            return logits, attn_maps
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
