"""The report's pictures of the CS224N attention modules (RoPE's CausalSelfAttention, the Synthesizer): each
head's map of the student's module next to the reference's, with their difference, read through the output
(graders/checks/figures.py), since these modules return only their output."""
import torch

from graders.checks.figures import READ_THROUGH_OUTPUT, maps_read_through_output, positions_as_values
from graders.checks.modules import config
from graders_packs.cs224n.reference import attention as ref

N_HEAD, HEAD, T, BLOCK = 2, 16, 8, 16  # each head's features hold a T-cell row of its map


def figures(submission, cls: str, title: str, queries: int = 0, caption: str = READ_THROUGH_OUTPUT,
            **extra) -> list[dict]:
    """The maps of attention.py's `cls`, built as the handout's config with `extra` (rope=True) says; with
    `queries`, a cross-attention's of that many query tokens."""
    cfg = config(N_HEAD * HEAD, N_HEAD, BLOCK, **extra)
    torch.manual_seed(0)
    reference = getattr(ref, cls)(cfg)
    E = cfg.n_embd
    with torch.no_grad():
        for weight in reference.parameters():
            weight.uniform_(-0.5, 0.5)
        reference.value.weight.copy_(positions_as_values(E, N_HEAD, T))
        reference.proj.weight.copy_(torch.eye(E))
        for layer in (reference.value, reference.proj):
            layer.bias.zero_()
    return maps_read_through_output(title, reference, lambda: getattr(submission.module("attention.py"), cls)(cfg),
                                    N_HEAD, T, E, queries=queries, caption=caption)
