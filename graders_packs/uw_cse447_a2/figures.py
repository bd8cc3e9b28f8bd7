"""The report's picture of A2S2: the student's attention probabilities next to the reference's, and their difference.

Both come from the same fixed input, pushed through the four step functions in the handout's order, so a
TA sees at a glance whether the mask, the scaling or the softmax went wrong.
"""
import torch

from graders.checks.figures import attention_maps
from graders.checks.inputs import Case, draw
from graders.problems import SubmissionProblem
from graders_packs.uw_cse447_a2.reference import a2s2 as ref

CASE = Case(B=1, T=8, n_heads=2, head_dim=4, causal=True, seed=0)


def probabilities(steps, Q, K):
    A = steps.pairwise_similarities(Q, K)
    A = steps.attn_scaled(A, CASE.E, CASE.n_heads)
    A = steps.apply_causal_mask(steps.make_causal_mask(CASE.T), A)
    return steps.attn_softmax(A)


def figures(submission):
    tensors, line = draw({"Q": CASE.heads, "K": CASE.heads}, CASE.seed)
    expected = probabilities(ref, *tensors.values())
    try:
        got, why = probabilities(submission.module("A2S2.py"), *tensors.values()), None
    except SubmissionProblem as e:
        got, why = None, f"Your code could not draw this map: {e}"
    if got is not None and (not isinstance(got, torch.Tensor) or got.shape != expected.shape):
        got, why = None, f"attn_softmax returned {type(got).__name__} {tuple(getattr(got, 'shape', ()))}, " \
                         f"not a tensor of shape {tuple(expected.shape)}"
    caption = ("attn_softmax(apply_causal_mask(make_causal_mask(8), attn_scaled(pairwise_similarities(Q, K), 8, 2))) "
               f"for {line}. Rows are queries, columns keys. The third panel is your map less the reference's: "
               "white where they agree.")
    return [attention_maps(f"Attention probabilities, head {h + 1} of {CASE.n_heads}", why or caption,
                           None if got is None else got[0, h], expected[0, h], same_weights=True)
            for h in range(CASE.n_heads)]
