"""The built-in course: one pack per assignment (its specs, checks, reference, given files, jobs and samples).

Course content, apart from the engine in `graders`: the engine finds packs through graders/packs.py and imports
nothing from here by name. docs/authoring.md describes a pack; `cs224n` is a pack without specs that holds what
the three CS224N packs share.
"""
