"""Checks of A2S1's written answers (answers.yaml), kept out of the student kit with their key."""
from graders_packs.uw_cse447_a2.written import *  # noqa: F403 - the written checks
