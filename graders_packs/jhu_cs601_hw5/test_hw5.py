"""JHU CS 601.471/671 hw5: CausalSelfAttention in gpt/model.py."""
from graders_packs.jhu_cs601_hw5.checks import *  # noqa: F403 - the checks
