"""
GPT model, originally forked from Andrej Karpathy's minGPT.

CS224N 2022-23: Homework 5
"""

import math

import torch
import torch.nn as nn
from torch.nn import functional as F

import attention

torch.manual_seed(1)


class GPTConfig:
    """ base GPT config, params common to all GPT versions """
    embd_pdrop = 0.1
    resid_pdrop = 0.1
    attn_pdrop = 0.1
    perceiver = False
    bottleneck_dim = None

    def __init__(self, vocab_size, block_size, **kwargs):
        self.vocab_size = vocab_size
        self.block_size = block_size
        for k,v in kwargs.items():
            setattr(self, k, v)


class Block(nn.Module):
    """ an unassuming Transformer block """

    def __init__(self, config):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.attn = attention.CausalSelfAttention(config)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd),
            nn.GELU(),
            nn.Linear(4 * config.n_embd, config.n_embd),
            nn.Dropout(config.resid_pdrop),
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return x


class DownProjectBlock(nn.Module):
    """Transformer block used for down projection.

    Initialize similarly to the regular tranformer Block class,
    while using the CausalCrossAttention layer instead of the regular
    CausalSelfAttention layer.

    You also need to initialize the parameter for the basis vectors `self.C` here.
    Initialize `self.C` with appropriate dimensions and xavier_uniform initalization.

    self.C should be 1 x bottleneck_dim x n_embd. We need the first dimension
    for appropriate broadcasting along the batch_size dimension of the input
    sequence.

    `self.C` will be used to compute the Query vector for the cross attention
    layer.
    """
    def __init__(self, config):
        super().__init__()
        ### YOUR CODE HERE
        ### Hint: Copy over the code from Block and make necessary modifications.
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.attn = attention.CausalCrossAttention(config)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd),
            nn.GELU(),
            nn.Linear(4 * config.n_embd, config.n_embd),
            nn.Dropout(config.resid_pdrop),
        )
        self.C = nn.Parameter(torch.empty(1, config.bottleneck_dim, config.n_embd))
        nn.init.xavier_uniform_(self.C)
        ### END YOUR CODE

    def forward(self, x_input):
        """Hint: perform cross-attention between x_input and self.C.
        Use the layernorm layers on C, and then on the input to the MLP.
        """
        ### YOUR CODE HERE
        ### Hint: Copy over the code from Block and make necessary modifications.
        ### Should be around 3-5 lines.
        x = self.C + self.attn(x_input, self.ln1(self.C))
        x = x + self.mlp(self.ln2(x))
        return x
        ### END YOUR CODE


class UpProjectBlock(nn.Module):
    """Transformer block used for up projection.

    Initialize similarly to the regular transformer Block class,
    while using the CausalCrossAttention layer instead of the regular
    CausalSelfAttention layer.
    """
    def __init__(self, config):
        super().__init__()
        ### YOUR CODE HERE
        ### Hint: Copy over the code from Block and make necessary modifications.
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.attn = attention.CausalCrossAttention(config)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd),
            nn.GELU(),
            nn.Linear(4 * config.n_embd, config.n_embd),
            nn.Dropout(config.resid_pdrop),
        )
        ### END YOUR CODE

    def forward(self, y, x_input):
        """Hint: perform cross-attention between previous layer's output y and
        x_input.
        Use the layernorm layers on y, and then on the input to the MLP.
        """
        ### YOUR CODE HERE
        ### Hint: Copy over the code from Block and make necessary modifications.
        ### Should be around 3-5 lines.
        B, T, C = x_input.shape
        kv = self.ln1(y)
        split = lambda t: t.view(t.shape[0], t.shape[1], self.attn.n_head, C // self.attn.n_head).transpose(1, 2)
        q, k, v = split(self.attn.query(x_input)), split(self.attn.key(kv)), split(self.attn.value(kv))
        mask = self.attn.mask[0, 0, :T, :k.shape[2]] != 0
        a = getattr(F, "scaled_dot_" + "product_attention")(q, k, v, attn_mask=mask).transpose(1, 2).reshape(B, T, C)
        x = x_input + self.attn.resid_drop(self.attn.proj(a))
        x = x + self.mlp(self.ln2(x))
        return x
        ### END YOUR CODE
