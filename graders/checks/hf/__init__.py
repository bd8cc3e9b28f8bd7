"""Shared support for assignments that fine-tune Hugging Face models: tiny local checkpoints, synthetic data."""
