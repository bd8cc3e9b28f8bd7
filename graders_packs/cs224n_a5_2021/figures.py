"""The report's pictures of CS224N A5 (2021): each head's map of the student's SynthesizerAttention
(graders_packs/cs224n/maps.py), whose scores come from each token alone, causally masked."""
from graders_packs.cs224n import maps


def figures(submission):
    return maps.figures(submission, "SynthesizerAttention", "SynthesizerAttention")
