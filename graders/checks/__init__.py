"""Reusable pieces for writing checks: seeded inputs, tensor comparison with diagnosis, feedback."""
