# Part 1: the transformer encoder with a feed-forward classifier on top.
import torch
import torch.nn as nn

from transformer import TransformerBlock


class SpeechClassifier(nn.Module):
    def __init__(self, vocab_size, d_model, num_heads, num_layers, max_len, n_hidden, n_output):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.encoder = nn.ModuleList([TransformerBlock(d_model, num_heads, 4 * d_model) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_output)

    def forward(self, idx):
        pad_mask = idx != 0
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        attn_maps = []
        for layer in self.encoder:
            x, w = layer(x, pad_mask)
            attn_maps.append(w)
        x = self.norm(x)
        keep = pad_mask.unsqueeze(-1).float()
        mean = (x * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)
        return self.fc2(torch.relu(self.fc1(mean))), attn_maps
