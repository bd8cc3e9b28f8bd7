import torch
import torch.nn as nn

from model import Block


class EncoderClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_heads, num_layers, block_size, n_hidden, n_output):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, embed_dim)
        self.positions = nn.Embedding(block_size, embed_dim)
        self.layers = nn.ModuleList(Block(embed_dim, num_heads, 4 * embed_dim) for _ in range(num_layers))
        self.ln = nn.LayerNorm(embed_dim)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx):
        padding = idx == 0
        x = self.tokens(idx) + self.positions(torch.arange(idx.shape[1], device=idx.device))
        probs = []
        for layer in self.layers:
            x, p = layer(x, padding)
            probs.append(p)
        x = self.ln(x).masked_fill(padding.unsqueeze(-1), 0.0)
        pooled = x.sum(1) / (~padding).sum(1, keepdim=True).clamp(min=1)
        return self.mlp(pooled), probs
