# add all  your Encoder and Decoder code here
import torch
import torch.nn as nn
from torch.nn import functional as F

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Head(nn.Module):
    """one head of self-attention"""

    def __init__(self, n_embd, head_size, block_size, dropout, is_decoder, alibi_slope=None):
        super().__init__()
        self.alibi_slope = alibi_slope
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer('tril', torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)
        self.is_decoder = is_decoder

    def forward(self, x, pad_mask=None):
        B, T, C = x.shape
        k = self.key(x)
        q = self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        if self.alibi_slope is not None:  # part 3: a linear penalty on the distance to each earlier key
            pos = torch.arange(T, device=x.device)
            wei = wei + self.alibi_slope * (pos[None, :] - pos[:, None])
        if self.is_decoder and T == self.tril.size(0):
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))
        if pad_mask is not None:
            wei = wei.masked_fill(pad_mask.unsqueeze(1) == 0, float('-inf'))
        wei = F.softmax(wei, dim=-1)
        attn = wei
        wei = self.dropout(wei)
        v = self.value(x)
        return wei @ v, attn


class MultiHeadAttention(nn.Module):
    def __init__(self, n_embd, num_heads, block_size, dropout, is_decoder, alibi=False):
        super().__init__()
        head_size = n_embd // num_heads
        slopes = [2 ** (-8 * (i + 1) / num_heads) if alibi else None for i in range(num_heads)]
        self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout, is_decoder, slopes[i])
                                    for i in range(num_heads)])
        self.proj = nn.Linear(n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, pad_mask=None):
        outs, maps = [], []
        for h in self.heads:
            o, a = h(x, pad_mask)
            outs.append(o)
            maps.append(a)
        out = torch.cat(outs, dim=-1)
        return self.dropout(self.proj(out)), maps


class FeedFoward(nn.Module):
    def __init__(self, n_embd, hidden, dropout):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_embd, hidden), nn.ReLU(), nn.Linear(hidden, n_embd), nn.Dropout(dropout))

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    """post-LN block as in the original transformer paper"""

    def __init__(self, n_embd, n_head, block_size, dropout, is_decoder, hidden, alibi=False):
        super().__init__()
        self.sa = MultiHeadAttention(n_embd, n_head, block_size, dropout, is_decoder, alibi)
        self.ffwd = FeedFoward(n_embd, hidden, dropout)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x, pad_mask=None):
        y, maps = self.sa(x, pad_mask)
        x = self.ln1(x + y)
        x = self.ln2(x + self.ffwd(x))
        return x, maps


class SpeechClassifier(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output, dropout=0.1):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size, dropout, False, 4 * n_embd) for _ in range(n_layer)])
        self.classifier = nn.Sequential(nn.Linear(n_embd, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pad_mask = (idx != 0).long()
        x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T, device=idx.device))
        attn_maps = []
        for block in self.blocks:
            x, maps = block(x, pad_mask)
            attn_maps.extend(maps)
        x = x.mean(dim=1)
        logits = self.classifier(x)
        if targets is None:
            return logits, attn_maps
        return logits, attn_maps  # loss computed in main.py


class LanguageModel(nn.Module):
    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, dropout=0.1):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size, dropout, True, n_hidden) for _ in range(n_layer)])
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def position_embeddings(self, T, device):
        return self.position_embedding_table(torch.arange(T, device=device))

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.token_embedding_table(idx) + self.position_embeddings(T, idx.device)
        attn_maps = []
        for block in self.blocks:
            x, maps = block(x)
            attn_maps.extend(maps)
        logits = self.lm_head(x)
        if targets is None:
            return logits, attn_maps
        B, T, C = logits.shape
        return F.cross_entropy(logits.view(B * T, C), targets.view(B * T))


class AlibiLanguageModel(LanguageModel):
    """Part 3: the decoder with ALiBi biases instead of position embeddings."""

    def __init__(self, vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, dropout=0.1):
        super().__init__(vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, dropout)
        del self.position_embedding_table
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size, dropout, True, n_hidden, alibi=True)
                                     for _ in range(n_layer)])

    def position_embeddings(self, T, device):
        return 0
