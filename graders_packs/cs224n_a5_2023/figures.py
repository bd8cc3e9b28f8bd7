"""The report's pictures of CS224N A5 (2023): each head's map of the CausalCrossAttention in the student's
attention.py, which their DownProjectBlock and UpProjectBlock call (graders_packs/cs224n/maps.py). The blocks' own
maps cannot be read through their output (a layer norm, the MLP and the residual lie between), so the caption says
that the picture is of the cross-attention they use, not of how the blocks wire it."""
from graders.checks.figures import READ_THROUGH_OUTPUT
from graders_packs.cs224n import maps

LATENTS = 6

CAPTION = (f"The cross-attention of attention.py on {maps.T} input tokens (keys, columns) and {LATENTS} latent "
           "queries (rows): query i sees keys up to i. DownProjectBlock and UpProjectBlock call it; their own maps "
           "cannot be read through their output (a layer norm, the MLP and the residual lie between), so bugs in "
           "how they wire it show in the checks, not here. " + READ_THROUGH_OUTPUT)


def figures(submission):
    return maps.figures(submission, "CausalCrossAttention", "CausalCrossAttention (latents × input)",
                        queries=LATENTS, caption=CAPTION)
