"""`graders demo`: each assignment's sample class graded by `graders batch` into OUT/ID/, with OUT/index.html
linking their class reports.

By default the class is small, so the demo shows something in minutes: the samples a pack names in
`samples/<id>/demo.yaml` (the reference, a few correct variants, the most instructive bugs; every sample when a
class has no such list); `--all` grades every sample. Each chosen sample is graded as a complete hand-in: a
sample that implements only some of the assignment's files (its expected.yaml's `implements`) gets the others
from the class's reference, so it changes one file of a working assignment, as a student's bug does, and its
score is out of the assignment's total (full marks means full marks). The index is written before any grading
and again as each assignment finishes, refreshing itself in a browser until the demo is done.
"""
import json
import shutil
import sys
from pathlib import Path

import yaml

from graders import batch, expected, packs, report
from graders import spec as specs
from graders.report import stats

LIST = "demo.yaml"
REFERENCE = "reference"


def chosen(folder: Path, everything: bool) -> list[Path]:
    """The sample folders of the demo's class: demo.yaml's `samples` in its order, or every sample."""
    listed = folder / LIST
    if everything or not listed.is_file():
        return [s.path for s in batch.students(folder)]
    names = (yaml.safe_load(listed.read_text()) or {}).get("samples") or []
    missing = [n for n in names if not (folder / n).is_dir()]
    if missing:
        raise ValueError(f"{listed}: no sample named {', '.join(missing)}")
    return [folder / n for n in names]


def complete(sample: Path, spec, reference: Path, into: Path) -> None:
    """Copy `sample` into `into`, adding the reference's copy of each file the sample does not implement; its
    expected.yaml then names no `implements` (every file is handed in)."""
    shutil.copytree(sample, into)
    data = yaml.safe_load((sample / expected.FILE).read_text()) if (sample / expected.FILE).is_file() else None
    if not isinstance(data, dict) or not data.get("implements") or not reference.is_dir():
        return
    for f in spec.files:
        if not f.given and f.name not in data["implements"] and (reference / f.name).is_file():
            (into / f.name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(reference / f.name, into / f.name)
    del data["implements"]
    (into / expected.FILE).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def assemble(assignment, into: Path, everything: bool) -> None:
    """The demo's class of `assignment` as a folder of complete hand-ins."""
    folder = packs.samples(assignment.id)
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    for sample in chosen(folder, everything):
        complete(sample, assignment, folder / REFERENCE, into / sample.name)


def summary(assignment, target: Path, roster) -> dict:
    """The index's row of a graded class: full marks as the class report counts them (checks pending aside)."""
    graded = {p.parent.name: json.loads(p.read_text()) for p in target.glob("students/*/results.json")}
    agreement = batch.agreement(target, assignment, roster)
    wrong = sorted(sid for sid, lines in agreement.items() if lines)
    table = stats.rows(assignment, graded)
    return {"students": len(graded), "full": stats.full_marks(assignment, table),
            "pending": sum(r["pending"] > 0 for r in table),
            "mean": sum(r["score"] for r in table) / max(len(table), 1),
            "samples": len(agreement), "agree": len(agreement) - len(wrong), "disagree": wrong}


def run(out: Path, only=None, everything=False) -> int:
    """Grade the demo classes into out/ID/ (the assembled hand-ins kept in out/.classes/ID/) and write
    out/index.html; 1 when a sample did not get its expected grade, 2 on an unknown assignment or a class that
    could not be graded."""
    unknown = sorted(set(only or ()) - set(packs.specs()))
    if unknown:
        print(f"graders demo: unknown assignment {', '.join(unknown)}", file=sys.stderr)
        return 2
    todo = [a for a in specs.available().values()
            if (not only or a.id in only) and packs.samples(a.id).is_dir()]
    rows = [{"id": a.id, "title": a.title, "course": a.course, "link": f"{a.id}/index.html",
             "max_score": a.max_score, "state": "waiting"} for a in todo]
    out.mkdir(parents=True, exist_ok=True)

    def index(done):
        (out / ".index.html").write_text(report.demo_index(rows, done=done, everything=everything))
        (out / ".index.html").replace(out / "index.html")

    index(False)
    print(f"graders demo: {out / 'index.html'} shows the classes as they finish")
    status = 0
    for assignment, row in zip(todo, rows, strict=True):
        classroom, target = out / ".classes" / assignment.id, out / assignment.id
        try:
            assemble(assignment, classroom, everything)
        except ValueError as e:
            print(f"graders demo: {e}", file=sys.stderr)
            status = 2
            break
        if (target / "journal.jsonl").exists():  # a previous demo's batch: grade afresh
            shutil.rmtree(target)
        row["state"] = "grading"
        index(False)
        graded = batch.grade_class(classroom, assignment, target)
        roster = batch.students(classroom)
        row.update(summary(assignment, target, roster), state="done")
        status = max(status, graded if graded and not row["samples"] else 1 if row["disagree"] else 0)
        if status == 2:  # the class could not be graded (batch.grade_class said why)
            break
        index(False)
    index(True)
    total, agree = (sum(r.get(k, 0) for r in rows) for k in ("samples", "agree"))
    print(f"{agree} of {total} samples got the grade their expected.yaml names\n"
          f"reports written under {out}/: open {out / 'index.html'}")
    return status
