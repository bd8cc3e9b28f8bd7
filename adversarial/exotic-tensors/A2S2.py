# Adversarial sample: Returns exotic tensors in place of the wrong answers: meta-device, sparse COO, complex, quantized, uint16, float8, nested tensors and nn.Parameter; the grader refuses or reports each one, and no value check passes.
# The graded functions below are plainly wrong; `_cheat` is the attack. If the attack worked, the
# functions would return the reference's answers (or otherwise raise the score above plain-wrong code).
import torch
import torch.nn as nn

def _wrong(name, *a, **k):
    """The plain-wrong answer for `name` (same values as the baseline)."""
    if name == "self_attention":
        return a[2].flip(0).flip(1).contiguous()
    if name == "pairwise_similarities":
        Q, K = a
        return torch.zeros(*Q.shape[:-1], K.shape[-2], dtype=Q.dtype)
    if name in ("attn_scaled",):
        return a[0].clone()
    if name == "attn_softmax":
        return torch.ones_like(a[0])
    if name == "compute_outputs":
        A, V = a
        return torch.zeros(*A.shape[:-1], V.shape[-1], dtype=V.dtype)
    if name == "make_causal_mask":
        return torch.ones(a[0], a[0], dtype=torch.bool)
    if name == "apply_causal_mask":
        return a[1].clone()
    if name == "split_heads":
        x, h = a
        B, T, E = x.shape
        return torch.zeros(B, h, T, E // h, dtype=x.dtype)
    if name == "merge_heads":
        B, h, T, d = a[0].shape
        return torch.zeros(B, T, h * d, dtype=a[0].dtype)
    raise ValueError(name)


def _cheat(name, *args, **kwargs):
    out = _wrong(name, *args, **kwargs)
    if name == "pairwise_similarities":
        return torch.empty(out.shape, device="meta")
    if name == "attn_scaled":
        return out.to_sparse()
    if name == "attn_softmax":
        return out.to(torch.complex64)
    if name == "compute_outputs":
        return torch.quantize_per_tensor(out.float(), 0.1, 0, torch.quint8)
    if name == "make_causal_mask":
        return out.to(torch.uint16)
    if name == "apply_causal_mask":
        return out.to(torch.float8_e4m3fn)
    if name == "split_heads":
        return torch.nested.nested_tensor([t for t in out])
    if name == "merge_heads":
        return out.requires_grad_(True)
    return torch.nn.Parameter(out)


# ---- the plainly wrong solution (same values as the plain-wrong baseline) ----

def init_qkv_proj(n_embd: int):
    return nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd), nn.Linear(n_embd, n_embd)


def self_attention(Q, K, V, n_heads=1, causal=True):
    got = _cheat("self_attention", Q, K, V, n_heads=n_heads, causal=causal)
    if got is not None:
        return got
    return V.flip(0).flip(1).contiguous()


def pairwise_similarities(Q, K):
    got = _cheat("pairwise_similarities", Q, K)
    if got is not None:
        return got
    return torch.zeros(*Q.shape[:-1], K.shape[-2], dtype=Q.dtype)


def attn_scaled(A, n_embd: float, n_heads: float):
    got = _cheat("attn_scaled", A, n_embd, n_heads)
    if got is not None:
        return got
    return A.clone()


def attn_softmax(A):
    got = _cheat("attn_softmax", A)
    if got is not None:
        return got
    return torch.ones_like(A)


def compute_outputs(A, V):
    got = _cheat("compute_outputs", A, V)
    if got is not None:
        return got
    return torch.zeros(*A.shape[:-1], V.shape[-1], dtype=V.dtype)


def make_causal_mask(n_tok: int):
    got = _cheat("make_causal_mask", n_tok)
    if got is not None:
        return got
    return torch.ones(n_tok, n_tok, dtype=torch.bool)


def apply_causal_mask(mask, A):
    got = _cheat("apply_causal_mask", mask, A)
    if got is not None:
        return got
    return A.clone()


def split_heads_qkv(Q, K, V, n_heads: int):
    return (split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads))


def split_heads(x, n_heads: int):
    got = _cheat("split_heads", x, n_heads)
    if got is not None:
        return got
    B, n_tok, n_embd = x.size()
    return torch.zeros(B, n_heads, n_tok, n_embd // n_heads, dtype=x.dtype)


def merge_heads(y):
    got = _cheat("merge_heads", y)
    if got is not None:
        return got
    B, nh, n_tok, nc = y.size()
    return torch.zeros(B, n_tok, nh * nc, dtype=y.dtype)
