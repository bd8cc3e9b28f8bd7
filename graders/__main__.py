import os
import sys

# `python -m` puts the working directory first on sys.path: a student folder holding `torch.py` must not be
# imported by the grader, so drop it before anything else is imported.
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]

from graders.cli import main  # noqa: E402

raise SystemExit(main())
