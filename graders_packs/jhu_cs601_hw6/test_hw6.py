"""Checks of JHU CS601 hw6's code; the LoRA training check stays out of the student kit (lora.py says why)."""
from graders_packs.jhu_cs601_hw6.finetune import *  # noqa: F403 - the fine-tuning checks
from graders_packs.jhu_cs601_hw6.lora import *  # noqa: F403 - LoRA training
