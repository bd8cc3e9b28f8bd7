"""The report's pictures of CS224N A4 (2024): each head's map of the student's RoPE attention (graders_packs/cs224n/
maps.py); the rotation changes only the scores, so a position off by one shows in the difference panel."""
from graders_packs.cs224n import maps


def figures(submission):
    return maps.figures(submission, "CausalSelfAttention", "CausalSelfAttention with RoPE", rope=True)
