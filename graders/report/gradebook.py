"""grades.csv: one row per student, shaped like a Canvas gradebook export so it imports back into one; checks.csv:
one row per student and check, for a TA to sort and filter where points were lost.

Columns. Canvas reads its first five columns as the student's identity (Student, ID, SIS User ID, SIS Login ID,
Section) and every later column as an assignment, and a row whose Student is "Points Possible" as the maximum
points, as its own exports do. We only know the id each submission was filed under (a login, for Gradescope
or Canvas downloads), so it goes in Student and SIS Login ID and the Canvas-only ids stay empty. Then comes
"Total" (rename it to the Canvas assignment's name to import into that), then one column per part, headed
"<assignment id>: <part id>", for a TA to see where points were lost; delete those before importing unless each
part is a Canvas assignment of its own.

A student whose grading failed (the grader itself, not their code) gets empty cells, never a 0: Canvas skips
empty cells on import, so a grader failure can't silently overwrite a grade with zero.
"""
import csv
import io

from graders.check_kinds import CheckKind
from graders.expected import numbered
from graders.report.stats import grader_error

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _points(value):
    return "" if value is None else f"{value:g}"


def grades_csv(spec, students):
    """The CSV text: a header, the Points Possible row, then one row per student sorted by id."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(IDENTITY + ["Total"] + [f"{spec.id}: {part.id}" for part in spec.parts])
    writer.writerow(["Points Possible", "", "", "", "", _points(spec.max_score)]
                    + [_points(sum(c.points for c in part.checks)) for part in spec.parts])
    for sid in sorted(students):
        results = students[sid]
        if grader_error(results) is not None:
            writer.writerow([sid, "", "", sid, ""] + [""] * (1 + len(spec.parts)))
            continue
        by_part = {}
        for test in results.get("tests", []):
            by_part.setdefault(test["tags"][1], []).append(test["score"])
        writer.writerow([sid, "", "", sid, "", _points(results.get("score", 0))]
                        + [_points(sum(by_part[p.id]) if p.id in by_part else None) for p in spec.parts])
    return out.getvalue()


CHECK_COLUMNS = ["Student", "Part", "Check", "Score", "Max score", "Kind", "Rules"]


def checks_csv(spec, students):
    """The CSV text: per student (sorted by id) and check, its score and kind (graders.check_kinds.CheckKind's value,
    as results.json tags it and the class report counts it: passed, wrong, missing, interface, limit, pending, ...),
    and the handout rules (graders/rules.py) the student broke in the code that check ran, as `rule id: cost`. A
    student whose grading failed gets one row of kind "grader"."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CHECK_COLUMNS)
    checks = numbered(spec)
    for sid in sorted(students):
        results = students[sid]
        if grader_error(results) is not None:
            writer.writerow([sid, "", "", "", "", CheckKind.GRADER, ""])
            continue
        broken = [r for r in results.get("extra_data", {}).get("rules", []) if r.get("broken")]
        for test in results.get("tests", []):
            check = checks.get(test["number"])
            if check is None:
                continue
            kind = CheckKind.of(test)
            rules = "; ".join(f"{r['rule']}: {r['cost']}" for r in broken if check.name in r.get("checks", {}))
            writer.writerow([sid, test["tags"][1], check.name, _points(test["score"]), _points(test["max_score"]), kind,
                             rules])
    return out.getvalue()
