"""Checks of A2S3.py (Hugging Face fine-tuning); the student kit runs them too, with transformers installed."""
from graders_packs.uw_cse447_a2.finetune import *  # noqa: F403 - the A2S3 checks
