"""Checks for UW CSE 447/517 A2 §2.1 (A2S2.py): attention from scratch."""
