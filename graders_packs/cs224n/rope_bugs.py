"""Known RoPE bugs (CS224N A4 2024) as variants of the reference: the cache, the rotation and the attention with
one step changed; a student's wrong output that equals one is named by it. The tables map a bug's name to
fn(dim, n) (a cache), fn(x, cache) (a rotation) or fn(m, x) (the reference module's output, run by
graders/checks/oracle.py)."""
import torch

from graders_packs.cs224n.reference import attention as ref

# The variants re-implement the reference: a student kit replays what they output and holds their names, not their
# code (graders/replay.py).
KIT = "recorded"
INVERTED = "θ_i = 10000^(+2(i-1)/dim): the inverted frequencies of the starter docstring's sign slip"


def cache(dim, max_positions, sign=-1.0, offset=0, start=0):
    """The RoPE cache with the exponent's sign, the index offset or the first position changed, for naming a
    wrong cache."""
    i = torch.arange(0, dim, 2, dtype=torch.float64) + offset
    theta = 10000.0 ** (sign * i / dim)
    angles = torch.outer(torch.arange(start, start + max_positions, dtype=torch.float64), theta)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def rotate(x, rope_cache, halves=False, sign=1.0, from_end=False, swapped=False, halves_out=False):
    """apply_rotary_emb with one step changed: `swapped` takes x[2i+1] as the first of each pair (and writes
    the result back in that order), `halves_out` writes the rotated pairs back as two halves."""
    T, d = x.shape[-2], x.shape[-1]
    c = rope_cache[-T:] if from_end else rope_cache[:T]
    cos, sin = c[..., 0], sign * c[..., 1]
    if halves:
        a, b = x[..., :d // 2], x[..., d // 2:]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    even, odd = (x[..., 1::2], x[..., 0::2]) if swapped else (x[..., 0::2], x[..., 1::2])
    pairs = [even * cos - odd * sin, even * sin + odd * cos]
    return torch.cat(pairs, dim=-1) if halves_out else torch.stack(pairs, dim=-1).flatten(-2)


INVERTED_SHIFTED = ("θ_i = 10000^(+2(i-1)/dim) with i counted from 0: the starter docstring's inverted exponent, "
                    "and i - 1 taken on a 0-based index (the handout's i runs from 1 to dim/2)")
CACHE_BUGS = {
    INVERTED: lambda dim, n: cache(dim, n, sign=1.0),
    "cos and sin swapped in the last dimension": lambda dim, n: cache(dim, n).flip(-1),
    "θ_i = 10000^(-2i/dim): i counted from 1 instead of 0": lambda dim, n: cache(dim, n, offset=2),
    INVERTED_SHIFTED: lambda dim, n: cache(dim, n, sign=1.0, offset=-2),
    "θ_i = 10000^(-2(i-1)/dim) with i counted from 0: i - 1 taken on a 0-based index (the handout's i runs "
    "from 1 to dim/2)": lambda dim, n: cache(dim, n, offset=-2),
    "positions start at 1: the handout's t runs from 0 to max_positions - 1": lambda dim, n: cache(dim, n, start=1),
    f"positions start at 1 and {INVERTED}": lambda dim, n: cache(dim, n, sign=1.0, start=1),
}
SWAPPED = "even/odd roles swapped: x[2i+1] rotated as the first of each pair, x[2i] as the second"
APPLY_BUGS = {
    "pairs (i, i + d/2) rotated (GPT-NeoX halves) instead of adjacent pairs (2i, 2i+1)":
        lambda x, c: rotate(x, c, halves=True),
    "rotation by -angle (the sin terms' signs flipped)": lambda x, c: rotate(x, c, sign=-1.0),
    "the last T positions of the cache used instead of the first T": lambda x, c: rotate(x, c, from_end=True),
    "cos and sin swapped": lambda x, c: rotate(x, c.flip(-1)),
    SWAPPED: lambda x, c: rotate(x, c, swapped=True),
    "the rotated pairs written back as two halves (all first elements, then all second ones) instead of "
    "interleaved in place": lambda x, c: rotate(x, c, halves_out=True),
    "x rounded to float16 before the rotation: keep x's dtype": lambda x, c: rotate(x.half().double(), c),
}


def rope_forward(m, x, targets=("q", "k"), rope_cache=None, rotation=ref.apply_rotary_emb, causal=True):
    """CausalSelfAttention with RoPE on other tensors, another cache or rotation, for naming a wrong output."""
    T = x.shape[1]
    c = m.rope_cache if rope_cache is None else rope_cache.to(x.dtype)
    q, k, v = (ref.split(f(x), m.n_head) for f in (m.query, m.key, m.value))
    q, k, v = (rotation(t, c) if name in targets else t for name, t in zip("qkv", (q, k, v), strict=True))
    att = (q @ k.transpose(-2, -1)) / k.size(-1) ** 0.5
    att = torch.softmax(att.masked_fill(m.mask[:, :, :T, :T] == 0, -1e10) if causal else att, dim=-1)
    return m.proj(ref.merge(att @ v))


def _sizes(m, x):
    """(head size, block size) of the reference module m on x."""
    return x.shape[-1] // m.n_head, m.mask.shape[-1]


MODULE_BUGS = {
    "RoPE applied to the queries and values instead of the queries and keys":
        lambda m, x: rope_forward(m, x, ("q", "v")),
    "RoPE applied to the queries only": lambda m, x: rope_forward(m, x, ("q",)),
    "RoPE applied to the keys only": lambda m, x: rope_forward(m, x, ("k",)),
    "RoPE never applied in forward": lambda m, x: rope_forward(m, x, ()),
    "no causal mask when RoPE is on: every token attends to the future":
        lambda m, x: rope_forward(m, x, causal=False),
    INVERTED: lambda m, x: rope_forward(m, x, rope_cache=cache(*_sizes(m, x), sign=1.0)),
    INVERTED_SHIFTED: lambda m, x: rope_forward(m, x, rope_cache=cache(*_sizes(m, x), sign=1.0, offset=-2)),
    "pairs (i, i + d/2) rotated (GPT-NeoX halves) instead of adjacent pairs (2i, 2i+1)":
        lambda m, x: rope_forward(m, x, rotation=lambda t, c: rotate(t, c, halves=True)),
    "rotation by -angle, or cos and sin swapped (the two give the same attention), or the even/odd roles "
    "swapped (x[2i+1] rotated as the first of each pair)":
        lambda m, x: rope_forward(m, x, rope_cache=cache(*_sizes(m, x)).flip(-1)),
}
ROPE_WHEN_OFF = {"RoPE applied although config.rope is False":
                 lambda m, x: rope_forward(m, x, rope_cache=cache(*_sizes(m, x)))}
