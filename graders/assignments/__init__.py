"""The pytest checks of each assignment, one package per assignment (named in its spec's `checks`)."""
