import torch

def self_attention(Q, K, V, n_heads=1, causal=True)
    print "attention"
    return Q

def pairwise_similarities(Q, K):
    return Q @ K.transpose(-2, -1))

def attn_scaled(A, n_embd, n_heads):
    print "scaling", n_embd
    return A / (n_embd / n_heads) ** 0.5

def attn_softmax(A):
    return torch.softmax(A, dim=-1]

def compute_outputs(A, V):
    return A @@ V

def make_causal_mask(n_tok):
    return torch.tril(torch.ones(n_tok, n_tok, dtype=torch.bool)

def apply_causal_mask(mask, A):
    return A.masked_fill(~mask, float("-inf")) else A

def split_heads(x, n_heads):
    B, T, E = x.size(
    return x.view(B, T, n_heads, E // n_heads).transpose(1, 2)

def merge_heads(y):
    exec "y.transpose(1, 2)"
