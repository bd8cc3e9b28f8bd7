"""Checks for cs224n-a5-2023."""
from graders_packs.cs224n import Options  # noqa: F401 - the options its specs may set
