"""Checks for JHU CS 601.471/671 hw5 (gpt/model.py): nanoGPT's CausalSelfAttention."""
