"""The property-based checks of correct samples on many fresh random examples instead of the 25 derandomized
ones grading uses: a correct sample must pass them all (tolerances that hold only on the fixed examples
would show here).

Usage: python benchmarks/wide_examples.py [--examples N] SAMPLE_FOLDER...
Each folder's assignment is the name of its parent (<pack>/samples/<assignment>/<sample>).
"""
import argparse
import time
from pathlib import Path

from hypothesis import settings

from graders import plugin  # noqa: F401 - registers the "graders" profile, which this script widens
from graders.grade import grade
from graders.spec import Limits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--examples", type=int, default=1000)
    args = parser.parse_args()
    settings.register_profile("graders", settings.get_profile("graders"), derandomize=False,
                              max_examples=args.examples)
    from graders import spec as specs

    print(f"{'sample':50s} {'time':>6s}  checks failed")
    for folder in args.folders:
        spec = specs.get(folder.parent.name)
        spec = spec.model_copy(update={"limits": Limits(call_seconds=60, submission_seconds=1e9)})
        started = time.monotonic()
        result = grade(folder, spec)
        failed = [f"{name}: {o.output.splitlines()[0]}" for name, o in result.outcomes.items() if not o.passed]
        print(f"{folder.parent.name + '/' + folder.name:50s} {time.monotonic() - started:5.0f}s  "
              f"{'; '.join(failed) or 'none'}", flush=True)


if __name__ == "__main__":
    main()
