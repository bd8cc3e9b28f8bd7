#!/usr/bin/env python
# coding: utf-8

# # CSE 447 A2 - Transformers
# 
# ## 2.1 Attention from scratch
# 
# ### Setup

# In[1]:


import math

import torch
import torch.nn as nn


# ### Given code

# In[2]:


def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


# ### Step 1

# In[3]:


def pairwise_similarities(Q, K):
    return torch.matmul(Q, K.transpose(-2, -1))


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return A / math.sqrt(n_embd)


def attn_softmax(A):
    e = torch.exp(A - A.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def compute_outputs(A, V):
    return torch.matmul(A, V)


# The scale should use the size of one head, not the whole embedding:

# In[4]:


def attn_scaled(A, n_embd: float, n_heads: float):
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    head_size = n_embd // n_heads
    return A / math.sqrt(head_size)


# ### Step 2

# In[5]:


def make_causal_mask(n_tok: int):
    return torch.ones(n_tok, n_tok, dtype=torch.bool).tril()


def apply_causal_mask(mask, A):
    return A.masked_fill(mask == 0, float("-inf"))


# ### Step 3

# In[6]:


def split_heads(x, n_heads: int):
    B, n_tok, n_embd = x.size()
    assert n_embd % n_heads == 0, "d must be divisible by number of heads"
    return x.view(B, n_tok, n_heads, -1).transpose(1, 2)


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    return y.transpose(1, 2).contiguous().view(B, n_tok, -1)


def self_attention(Q, K, V, n_heads=1, causal=True):
    assert Q.shape == K.shape == V.shape
    B, n_tok, n_embd = Q.size()
    if n_heads > 1:
        Q, K, V = split_heads_qkv(Q, K, V, n_heads)
    A = attn_scaled(pairwise_similarities(Q, K), n_embd, n_heads)
    if causal:
        A = apply_causal_mask(make_causal_mask(n_tok), A)
    y = compute_outputs(attn_softmax(A), V)
    if n_heads > 1:
        y = merge_heads(y)
    return y


# ## 2.2 Training a small GPT
# 
# ### A shortcut for merging
# 
# Flattening the last two dims directly, to see whether the transpose is needed at all.

# In[7]:


def merge_heads(y):
    B, nh, n_tok, nc = y.size()
    return y.reshape(B, n_tok, nh * nc)


# In[8]:


x = torch.randn(4, 32, 64)
for step in range(1000):
    y = self_attention(x, x, x, n_heads=8)
    print(step, y.pow(2).mean().item())
