"""Checks for cs224n-a4-2024."""
from graders_packs.cs224n import Options  # noqa: F401 - the options its specs may set
