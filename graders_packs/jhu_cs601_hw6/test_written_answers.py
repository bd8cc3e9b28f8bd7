"""Checks of hw6's written answers (answers.yaml), kept out of the student kit with their key."""
from graders_packs.jhu_cs601_hw6.written import *  # noqa: F403 - the written checks
