import torch
import torch.nn as nn
import torch.nn.functional as F


class MHA(nn.Module):
    def __init__(self, embed_dim, num_heads, max_seq_len, is_causal=False, dropout=0.1):
        super().__init__()
        assert embed_dim % num_heads == 0
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.drop = nn.Dropout(dropout)
        self.is_causal = is_causal
        self.register_buffer("mask", torch.tril(torch.ones(max_seq_len, max_seq_len)).view(1, 1, max_seq_len, max_seq_len))

    def forward(self, x, additive_mask=None):
        B, T, E = x.shape
        def split(t):
            return t.reshape(B, T, self.num_heads, self.head_dim).permute(0, 2, 1, 3)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = torch.matmul(q, k.permute(0, 1, 3, 2)) / (self.head_dim ** 0.5)
        if self.is_causal:
            scores = scores.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        if additive_mask is not None:
            scores = scores + additive_mask
        attn = F.softmax(scores, dim=-1)
        out = torch.matmul(self.drop(attn), v).permute(0, 2, 1, 3).reshape(B, T, E)
        return self.out_proj(out), attn


class TransformerLayer(nn.Module):
    def __init__(self, embed_dim, num_heads, max_seq_len, hidden_dim, is_causal, dropout):
        super().__init__()
        self.norm_a = nn.LayerNorm(embed_dim)
        self.mha = MHA(embed_dim, num_heads, max_seq_len, is_causal, dropout)
        self.norm_b = nn.LayerNorm(embed_dim)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, embed_dim),
                                 nn.Dropout(dropout))

    def forward(self, x, additive_mask=None):
        h, attn = self.mha(self.norm_a(x), additive_mask)
        x = x + h
        return x + self.mlp(self.norm_b(x)), attn


class TransformerEncoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_heads, num_layers, max_seq_len, hidden_dim=256, dropout=0.1):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, embed_dim)
        self.pos = nn.Parameter(torch.zeros(max_seq_len, embed_dim))
        self.layers = nn.ModuleList([TransformerLayer(embed_dim, num_heads, max_seq_len, hidden_dim, False, dropout)
                                     for _ in range(num_layers)])
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, ids):
        T = ids.size(1)
        additive = torch.zeros(ids.shape, device=ids.device).masked_fill(ids == 0, float("-inf"))[:, None, None, :]
        x = self.tok(ids) + self.pos[:T]
        maps = ()
        for layer in self.layers:
            x, attn = layer(x, additive)
            maps += (attn,)
        return self.norm(x), maps


class TransformerDecoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_heads, num_layers, max_seq_len, hidden_dim=100, dropout=0.1):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, embed_dim)
        self.pos = nn.Parameter(torch.zeros(max_seq_len, embed_dim))
        self.layers = nn.ModuleList([TransformerLayer(embed_dim, num_heads, max_seq_len, hidden_dim, True, dropout)
                                     for _ in range(num_layers)])
        self.norm = nn.LayerNorm(embed_dim)
        self.lm_head = nn.Linear(embed_dim, vocab_size, bias=False)

    def forward(self, ids, targets=None):
        ids = ids.to('cuda')
        x = self.tok(ids) + self.pos[:ids.size(1)]
        maps = []
        for layer in self.layers:
            x, attn = layer(x)
            maps.append(attn)
        logits = self.lm_head(self.norm(x))
        if targets is not None:
            return logits, F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, maps
