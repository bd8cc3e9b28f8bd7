"""Checks of A2S3.py (Hugging Face fine-tuning), kept out of the student kit (finetune.py says why)."""
from graders_packs.uw_cse447_a2.finetune import *  # noqa: F403 - the A2S3 checks
