"""Grades on an idle and on a busy machine: the reference and every correct sample of each assignment, graded
with `graders batch` idle, then again while busy processes at normal priority run on every core. Every grade
(score, and each check's status, points and feedback) must be identical; prints a line per assignment and exits 1
when one differs. Threshold checks stay pending, as in the demo (the training jobs run their own benchmarks).

    python benchmarks/under_load.py [--hogs 4] [--assignment ID ...] [--sample ID/NAME ...]

tests/test_under_load.py runs it on a few samples with 2 hogs.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

from graders import packs

ROOT = Path(__file__).resolve().parents[1]
HOG = "while True:\n    pass\n"


@contextmanager
def busy(hogs):
    """`hogs` processes that spin at normal priority, each in a session of its own (where the kernel groups
    processes by session, each is then a group, as a separate job on a shared machine is)."""
    procs = [subprocess.Popen([sys.executable, "-c", HOG], start_new_session=True) for _ in range(hogs)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def correct_samples(assignment):
    """The reference and every sample whose expected.yaml says it is correct."""
    found = []
    for expected in sorted(packs.samples(assignment).glob("*/expected.yaml")):
        if expected.parent.name == "reference" or yaml.safe_load(expected.read_text()).get("kind") == "correct":
            found.append(expected.parent)
    return found


def comparable(results):
    """What must not change with the machine's load: the score, the notes, each check's verdict and feedback."""
    return {"score": results["score"], "output": results["output"],
            "tests": [(t["number"], t["score"], t["status"], t["output"]) for t in results["tests"]]}


def grade(assignment, folders, out):
    """`graders batch` over a class made of `folders`: (seconds, {student: comparable results})."""
    with tempfile.TemporaryDirectory(prefix="under-load-") as tmp:
        cls = Path(tmp) / "class"
        cls.mkdir()
        for folder in folders:
            shutil.copytree(folder, cls / folder.name, symlinks=True)
        started = time.monotonic()
        # --profile full on a machine without a GPU leaves threshold checks pending, as the demo does
        run = subprocess.run([sys.executable, "-m", "graders", "batch", str(cls), "--assignment", assignment,
                              "--out", str(out), "--profile", "full"], capture_output=True, text=True)
        seconds = time.monotonic() - started
    if run.returncode != 0:
        sys.exit(f"graders batch failed on {assignment}:\n{run.stderr[-3000:]}")
    return seconds, {p.parent.name: comparable(json.loads(p.read_text()))
                     for p in sorted(out.glob("students/*/results.json"))}


def differences(idle, loaded):
    """Lines saying how each student's loaded grade differs from its idle one."""
    lines = []
    for student in sorted(idle.keys() | loaded.keys()):
        a, b = idle.get(student), loaded.get(student)
        if a == b:
            continue
        if a is None or b is None:
            lines.append(f"  {student}: graded only {'loaded' if a is None else 'idle'}")
            continue
        lines.append(f"  {student}: score {a['score']:g} idle, {b['score']:g} loaded")
        for x, y in zip(a["tests"], b["tests"], strict=False):
            if x != y:
                lines.append(f"    check {x[0]}: {x[2]} {x[1]:g} idle / {y[2]} {y[1]:g} loaded: {y[3][:160]!r}")
        if a["output"] != b["output"]:
            lines.append(f"    notes differ: {a['output'][:160]!r} / {b['output'][:160]!r}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=4, help="busy processes while grading loaded (default 4)")
    parser.add_argument("--assignment", action="append", help="an assignment id (default: every one with samples)")
    parser.add_argument("--sample", action="append", help="ID/NAME: grade only these samples")
    args = parser.parse_args()
    if args.sample:
        chosen = {}
        for sample in args.sample:
            assignment, name = sample.split("/")
            chosen.setdefault(assignment, []).append(packs.samples(assignment) / name)
    else:
        ids = args.assignment or sorted(a for a in packs.specs() if (packs.samples(a) / "reference").is_dir())
        chosen = {a: correct_samples(a) for a in ids}
    print(f"{'assignment':<18} {'samples':>7} {'idle s':>7} {'loaded s':>8} {'load avg':>8} {'identical':>9}")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="under-load-out-") as out:
        for assignment, folders in chosen.items():
            idle_s, idle = grade(assignment, folders, Path(out) / assignment / "idle")
            with busy(args.hogs):
                loaded_s, loaded = grade(assignment, folders, Path(out) / assignment / "loaded")
                load = os.getloadavg()[0]
            diff = differences(idle, loaded)
            same = sum(idle.get(s) == loaded.get(s) for s in idle)
            failed += bool(diff)
            print(f"{assignment:<18} {len(folders):>7} {idle_s:>7.1f} {loaded_s:>8.1f} {load:>8.1f} "
                  f"{same:>5}/{len(idle):<3}", flush=True)
            for line in diff:
                print(line)
    print("every grade identical" if not failed else f"grades changed under load in {failed} assignment(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
