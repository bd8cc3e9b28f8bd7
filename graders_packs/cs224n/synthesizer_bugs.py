"""Known Synthesizer bugs as variants of the reference module; a student's wrong output that equals one is named by
it. `forward` is the reference forward with one step changed; BUGS maps a bug's name to fn(m, x)."""
import math

from torch.nn import functional as F

from graders_packs.cs224n.reference import attention as ref

# The variants re-implement the reference: a student kit replays what they output (graders/checks/oracle.py runs
# them on the reference module), and holds their names, not their code.
KIT = "recorded"


def forward(m, x, relu=True, b2=True, scale=1.0, mask="before", transpose=True, proj=True):
    """The Synthesizer with one step changed, for naming what a wrong output does."""
    B, T, C = x.shape
    h = m.w1(x)
    a = ref.split(F.relu(h) if relu else h, m.n_head)
    att = (a @ m.w2[:, :T] + (m.b2[:T] if b2 else 0)) * scale
    future = m.mask[:, :, :T, :T] == 0
    if mask == "before":
        att = att.masked_fill(future, -1e10)
    att = F.softmax(att, dim=-1)
    if mask == "after":
        att = att.masked_fill(future, 0.0)
    y = att @ ref.split(m.value(x), m.n_head)
    y = ref.merge(y) if transpose else y.contiguous().view(B, T, C)
    return m.proj(y) if proj else y


BUGS = {
    "no causal mask: every token attends to the future": lambda m, x: forward(m, x, mask=None),
    "mask applied after the softmax (rows no longer sum to 1)": lambda m, x: forward(m, x, mask="after"),
    "ReLU missing after w1": lambda m, x: forward(m, x, relu=False),
    "b2 not added": lambda m, x: forward(m, x, b2=False),
    "scores scaled by 1/sqrt(head size), which the Synthesizer does not do":
        lambda m, x: forward(m, x, scale=1 / math.sqrt(m.w2.shape[0])),
    "heads merged without transposing back (view of (B, nh, T, hs) as (B, T, C))":
        lambda m, x: forward(m, x, transpose=False),
    "output projection self.proj not applied": lambda m, x: forward(m, x, proj=False),
}
