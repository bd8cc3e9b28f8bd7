"""Check sizes that never make a layout ambiguous.

When two of a check's sizes are equal (batch 2 and 2 heads), a student's tensor laid out (head, batch, ...) has the
shape of one laid out (batch, head, ...), and a check reads it wrong or lets a swap of the two axes pass. So every
check that hands a student attention-like inputs builds them, at least once, from sizes that differ pairwise: B,
n_head, T, head_dim and n_embd = n_head * head_dim, and block_size and vocab where a check has them. Two cases are
not ambiguous and pass: sizes of 1 (permuting axes of size 1 moves no data) and n_embd = head_dim with one head
(then the head is the embedding). T may equal block_size (a check at full length). Where a module's interface
forces another equality (a handout's fixed config), the check names those sizes in `forced` and says why.
A hypothesis check may run a twin example before its distinct one, with two sizes equal on purpose: code that
confuses those two axes runs only there, so its wrong output names the bug, where distinct sizes make it crash.

`tests/test_sizes.py` asserts this of every check, through `named`.
"""
from dataclasses import dataclass, fields, is_dataclass
from itertools import combinations

ALIASES = {"n_heads": "n_head", "h": "n_head", "hs": "head_dim", "E": "n_embd", "block": "block_size",
           "vocab_size": "vocab"}
SIZES = ("B", "n_head", "T", "L", "head_dim", "n_embd", "block_size", "vocab")  # L: a second sequence's length


def named(*values, **sizes):
    """{size name: value} of the sizes in a check's arguments: dataclasses (inputs.Case, Dims), dicts and keyword
    arguments, under the names above (aliases such as n_heads, hs, E, block translated); head_dim and n_embd
    are completed from each other and n_head. RoPE's `half` (head_dim / 2) counts as head_dim."""
    for value in values:
        if isinstance(value, dict):
            sizes = {**value, **sizes}
        elif is_dataclass(value):
            sizes = {**{f.name: getattr(value, f.name) for f in fields(value)}, **sizes}
    if "half" in sizes:
        sizes["head_dim"] = 2 * sizes.pop("half")
    out = {ALIASES.get(k, k): v for k, v in sizes.items() if ALIASES.get(k, k) in SIZES and type(v) is int}
    if "n_head" in out and "head_dim" in out:
        out.setdefault("n_embd", out["n_head"] * out["head_dim"])
    elif "n_head" in out and "n_embd" in out:
        out["head_dim"] = out["n_embd"] // out["n_head"]
    return out


def clashes(sizes, forced=()):
    """The pairs of equal sizes in `sizes` ({name: value}) that could make a layout ambiguous."""
    def harmless(a, b):
        return (sizes[a] == 1 or {a, b} == {"T", "block_size"} or {a, b} <= set(forced)
                or ({a, b} == {"head_dim", "n_embd"} and sizes.get("n_head") == 1))
    return [(a, b) for a, b in combinations(sizes, 2) if sizes[a] == sizes[b] and not harmless(a, b)]


@dataclass(frozen=True)
class Dims:
    """A check's fixed sizes; refuses sizes that `clashes` finds. `forced` names sizes the interface makes equal."""
    B: int
    n_head: int
    T: int
    head_dim: int
    block_size: int | None = None
    vocab: int | None = None
    forced: tuple[str, ...] = ()

    def __post_init__(self):
        if bad := clashes(named(self), self.forced):
            raise ValueError(f"ambiguous check sizes {named(self)}: " + ", ".join(f"{a} = {b}" for a, b in bad))

    @property
    def n_embd(self):
        return self.n_head * self.head_dim
