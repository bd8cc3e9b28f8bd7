"""Trusted reference implementations. Imported only by the grader (parent) process, never by student code."""
