"""Checks of JHU CS601 hw6's code, kept out of the student kit (finetune.py says why)."""
from graders_packs.jhu_cs601_hw6.finetune import *  # noqa: F403 - the fine-tuning checks
