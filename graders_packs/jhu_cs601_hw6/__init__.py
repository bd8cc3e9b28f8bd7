"""Checks for JHU CS601 hw6: fine-tuning a Hugging Face encoder (full, head, prefix)."""
