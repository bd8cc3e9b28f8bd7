# Plainly wrong PA2 transformer.py: an encoder and a decoder of the right shapes whose attention is uniform over
# every position (no scores, no padding mask, no causal mask), and whose decoder sees the whole sequence.
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, n_embd)
        self.n_head, self.n_layer = n_head, n_layer

    def forward(self, idx):
        B, T = idx.shape
        maps = [torch.full((B, self.n_head, T, T), 1.0 / T) for _ in range(self.n_layer)]
        return self.embedding(idx), maps


class Decoder(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size):
        super().__init__()
        self.encoder = Encoder(vocab_size, n_embd, n_head, n_layer, block_size)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        x, maps = self.encoder(idx)
        logits = self.lm_head(x.mean(1, keepdim=True).expand_as(x))
        if targets is None:
            return logits, maps
        return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
