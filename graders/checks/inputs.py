"""Seeded inputs that a student can rebuild from one line of Python, and hypothesis strategies for them."""
from dataclasses import dataclass

import torch
from hypothesis import strategies as st

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def draw(shapes, seed, dtype="float32"):
    """Standard-normal tensors for `shapes` (name -> shape), drawn in order from one seeded generator.

    Returns the tensors and the line of Python that rebuilds them.
    """
    g = torch.Generator().manual_seed(seed)
    tensors = {name: torch.randn(*shape, generator=g, dtype=DTYPES[dtype]) for name, shape in shapes.items()}
    suffix = "" if dtype == "float32" else f", dtype=torch.{dtype}"
    line = "; ".join([f"g = torch.Generator().manual_seed({seed})"] + [
        f"{name} = torch.randn({', '.join(map(str, shape))}, generator=g{suffix})" for name, shape in shapes.items()])
    return tensors, line


@dataclass(frozen=True)
class Case:
    """One attention input: B rows, T tokens, n_heads heads of head_dim each, in dtype, from seed."""
    B: int = 1
    T: int = 1
    n_heads: int = 1
    head_dim: int = 1
    causal: bool = True
    dtype: str = "float32"
    seed: int = 0

    @property
    def E(self):
        return self.n_heads * self.head_dim

    @property
    def tokens(self):
        """(B, T, E): what self_attention takes."""
        return (self.B, self.T, self.E)

    @property
    def heads(self):
        """(B, h, T, d): one head's queries, keys or values."""
        return (self.B, self.n_heads, self.T, self.head_dim)

    @property
    def scores(self):
        """(B, h, T, T): attention scores."""
        return (self.B, self.n_heads, self.T, self.T)


# B, T, n_heads, head_dim and n_embd all differ: every hypothesis check of Cases runs this example too, so a layout
# that swaps two axes shows whatever hypothesis draws besides (graders/checks/sizes.py).
UNAMBIGUOUS = Case(B=3, T=7, n_heads=2, head_dim=5)


def cases(max_B=4, max_T=64, max_heads=8, max_head_dim=8, min_T=1, min_B=1, causal=None, dtypes=tuple(DTYPES)):
    """Attention inputs; hypothesis shrinks failures toward one row, one token, one head."""
    causal = st.booleans() if causal is None else causal
    return st.builds(Case, B=st.integers(min_B, max_B), T=st.integers(min_T, max_T),
                     n_heads=st.integers(1, max_heads), head_dim=st.integers(1, max_head_dim), causal=causal,
                     dtype=st.sampled_from(dtypes), seed=st.integers(0, 2**16))
