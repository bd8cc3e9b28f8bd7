"""Checks for A2S1.py (queries and keys for the handout's fixed K and V), kept out of the student kit."""
from graders_packs.uw_cse447_a2.a2s1 import *  # noqa: F403 - the A2S1 checks
