# Adversarial sample: Walks sys._getframe().f_back frames and sys.modules looking for the reference module or expected tensors; the child holds neither, so the wrong answers stand.
# The graded functions below are plainly wrong; `_cheat` is the attack. If the attack worked, the
# functions would return the reference's answers (or otherwise raise the score above plain-wrong code).
import torch
import torch.nn as nn

import sys


def _find_reference():
    f = sys._getframe(1)
    while f is not None:
        for scope in (f.f_locals, f.f_globals):
            for key, value in list(scope.items()):
                if key in ("ref", "reference", "uw_cse447_a2") and hasattr(value, "attn_scaled"):
                    return value
                if key in ("expected", "want", "answer") and isinstance(value, torch.Tensor):
                    return {"tensor": value}
                mod = getattr(value, "__name__", "")
                if isinstance(mod, str) and ("reference" in mod or "uw_cse447_a2" in mod) and hasattr(value, "attn_scaled"):
                    return value
        f = f.f_back
    for name, module in list(sys.modules.items()):
        if ("reference" in name or "uw_cse447_a2" in name or name.startswith("graders")) and hasattr(module, "attn_scaled"):
            return module
    return None


def _cheat(name, *args, **kwargs):
    found = _find_reference()
    if found is None:
        return None
    if isinstance(found, dict):
        return found["tensor"]
    return getattr(found, name)(*args, **kwargs)


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
