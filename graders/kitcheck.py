"""A student kit checked before it is written: the reference and every sample of the assignment graded inside it.

A kit is only as good as its recording, and a recording is made on whatever machine builds it (issue 17: a busy
one once recorded a kit that failed the reference). So `graders package --student` unpacks the kit, grades each
sample with the kit's own engine in a clean process (no GRADERS_COURSE, no PYTHONPATH, the kit first on sys.path,
as selfcheck.py runs), and compares each check's verdict with the autograder's: the sample's expected.yaml, which
tests/test_samples.py and `graders verify` hold the autograder to. Any difference fails the build.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from graders import packs
from graders.expected import Expected

# Runs in the unpacked kit (its working directory), like selfcheck.py; prints {sample: {check: [passed, output]}}.
GRADE_IN_KIT = """
import json, os, sys
from pathlib import Path
kit = Path.cwd().resolve()
sys.path.insert(0, str(kit))
if (kit / "course").is_dir():
    os.environ["GRADERS_COURSE"] = str(kit / "course")
import graders
from graders import spec as specs
from graders.grade import grade
from graders.sandbox.worker import Zygote
if not Path(graders.__file__).resolve().is_relative_to(kit):
    raise SystemExit(f"the kit imported graders from {graders.__file__}")
spec, found = specs.get(sys.argv[1]), {}
with Zygote(preload=spec.preload):  # torch imported once for the sandbox children, as in a batch
    for sample in sys.argv[2:]:
        result = grade(sample, spec, visibility="public")
        found[sample] = {name: [o.passed, o.output] for name, o in result.outcomes.items()}
        if result.error:
            found[sample] = {"": [False, result.error]}
print(json.dumps(found))
"""


def samples(assignment):
    """(folder, Expected) of every sample of the assignment's class."""
    found = ((p, Expected.read(p)) for p in sorted(packs.samples(assignment).iterdir()) if p.is_dir())
    return [(p, e) for p, e in found if e is not None]


def grade_in_kit(kit, assignment, folders, workers=2):
    """{sample folder: {check: (passed, output)}}, graded by the kit at `kit` in `workers` clean processes."""
    env = {k: v for k, v in os.environ.items() if k not in ("GRADERS_COURSE", "PYTHONPATH")}
    chunks = [folders[i::workers] for i in range(workers) if folders[i::workers]]
    runs = [subprocess.Popen([sys.executable, "-c", GRADE_IN_KIT, assignment, *map(str, chunk)], cwd=kit, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for chunk in chunks]
    found = {}
    for run in runs:
        out, err = run.communicate()
        if run.returncode:
            raise RuntimeError(f"the kit could not grade its samples: {err.strip()[-2000:]}")
        found |= {Path(k): {name: tuple(v) for name, v in checks.items()} for k, checks in json.loads(out).items()}
    return found


def disagreements(spec, expected, outcomes):
    """What the kit's grade of one sample (`outcomes`, with the kit's `spec`) says unlike the autograder: the
    sample fails exactly the checks its expected.yaml names and those of files it does not hand in, with the
    named diagnosis. [] when they agree."""
    graded = {c.name for c in expected.graded(spec)}
    lines = [f"the grader failed: {outcomes[''][1]}"] if "" in outcomes else []
    for check in (c for p in spec.parts for c in p.checks if not c.job):
        passed, output = outcomes.get(check.name, (None, "did not run"))
        fails = check.name in expected.fail or check.name not in graded
        if passed is None or passed == fails:
            lines.append(f"{check.name} {'should fail' if fails else 'should pass'} as in the autograder, got: "
                         f"{output[:300]!r}")
        elif check.name in expected.fail and expected.fail[check.name] not in output:
            lines.append(f"{check.name}'s feedback lacks the autograder's {expected.fail[check.name]!r}: "
                         f"{output[:300]!r}")
    return lines


def check(files, spec, top):
    """Unpack the kit's `files` ({path in the zip: bytes}, under `top`/) and grade every sample in it with its
    kit `spec`; ["sample: what differs"], [] when the kit grades as the autograder does."""
    with tempfile.TemporaryDirectory(prefix="graders-kit-") as folder:
        for path, data in files.items():
            (Path(folder) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(folder) / path).write_bytes(data)
        found = samples(spec.id)
        outcomes = grade_in_kit(Path(folder) / top, spec.id, [p for p, _ in found])
    return [f"{p.name}: {line}" for p, expected in found for line in disagreements(spec, expected, outcomes[p])]
