"""What the class page shows, computed from the students' results dicts. The page is for staff, so hidden checks
and the diagnoses of hidden checks (extra_data.diagnoses) count here."""
import math
import statistics

from graders.check_kinds import CheckKind, Whose
from graders.rules import cost_words, evidence

HISTOGRAM = {"width": 640, "height": 200, "left": 12, "right": 12, "top": 18, "bottom": 34}
SLOWEST = 5
REFERENCE = "reference"  # the class entry whose limits hit tell the machine's slowness from a student's code
# How staff complete pending checks: the batch again, training where a GPU is (see graders/batch.py, README).
COMPLETE = "graders batch DIR --assignment {id} --out OUT --resume --profile full --runner slurm --data-dir DATA"


def _number(number):
    return tuple(int(x) for x in number.split("."))


def grader_error(results):
    """The message of the "Grader" test (number 0), which says the grader itself failed; None when it did not."""
    return next((t["output"] for t in results.get("tests", []) if t["number"] == "0"), None)


def histogram(scores, max_score):
    """Bars of `width` points each (one bar per point up to 20 points), and their SVG geometry."""
    width = max(1, math.ceil(max_score / 20))
    counts = [0] * (int(max_score // width) + 1)
    for score in scores:
        counts[min(max(int(score // width), 0), len(counts) - 1)] += 1
    g = HISTOGRAM
    bar = (g["width"] - g["left"] - g["right"]) / len(counts)
    tall = g["height"] - g["top"] - g["bottom"]
    top = max(counts, default=0) or 1
    bars = [{"x": round(g["left"] + i * bar, 1), "w": round(bar * 0.86, 1), "h": round(c / top * tall, 1),
             "y": round(g["top"] + tall - c / top * tall, 1), "count": c, "label": f"{i * width:g}",
             "range": f"{i * width:g}" if width == 1 else f"{i * width:g} to {min((i + 1) * width, max_score):g}"}
            for i, c in enumerate(counts)]
    return {"bars": bars, "geometry": g, "bin_width": width, "axis_y": g["top"] + tall}


def check_rates(spec, students):
    """Every check with how many of the students graded on it passed (not those whose file was not handed in, nor
    those whose check is pending), the least passed first: where the class needs attention."""
    rows = []
    for p, part in enumerate(spec.parts, start=1):
        for c, check in enumerate(part.checks, start=1):
            number = f"{p}.{c}"
            tests = [t for r in students.values() for t in r.get("tests", []) if t["number"] == number]
            kinds = [CheckKind.of(t) for t in tests]
            graded = [k for k in kinds if k not in (CheckKind.PENDING, CheckKind.MISSING)]
            passed = graded.count(CheckKind.PASSED)
            rows.append({"number": number, "part": part.title, "title": check.title, "points": check.points,
                         "visibility": check.visibility.value, "graded": len(graded), "passed": passed,
                         "pending": kinds.count(CheckKind.PENDING), "missing": kinds.count(CheckKind.MISSING),
                         "percent": round(100 * passed / len(graded)) if graded else None})
    return sorted(rows, key=lambda r: (r["percent"] is None, r["percent"] or 0))


def bugs(students):
    """Diagnosed bugs by how many students' submissions show them, with the checks they showed up in."""
    seen = {}
    for sid, results in students.items():
        found = dict(results.get("extra_data", {}).get("diagnoses") or {})
        found |= {t["number"]: tag.removeprefix("bug: ") for t in results.get("tests", [])
                  for tag in t.get("tags", []) if tag.startswith("bug: ")}
        for number, bug in found.items():
            entry = seen.setdefault(bug, {"bug": bug, "students": set(), "checks": set()})
            entry["students"].add(sid)
            entry["checks"].add(number)
    rows = sorted(seen.values(), key=lambda e: (-len(e["students"]), e["bug"]))
    return [e | {"students": sorted(e["students"]), "checks": sorted(e["checks"], key=_number),
                 "percent": round(100 * len(e["students"]) / len(students))} for e in rows]


def rules(spec, students):
    """Each spec rule with the students who broke it (what it cost each, and where) and those staff should look
    at (the source and the run disagree, or the run's record is missing)."""
    table = []
    for rule in spec.rules:
        broken, suspect = [], []
        for sid in sorted(students):
            for v in students[sid].get("extra_data", {}).get("rules") or []:
                if v["rule"] != rule.id:
                    continue
                if v["broken"]:
                    broken.append({"id": sid, "points": v["points"], "evidence": "; ".join(evidence(v, most=2))})
                if v["suspicions"]:
                    suspect.append({"id": sid, "why": v["suspicions"][0], "more": len(v["suspicions"]) - 1})
        table.append({"id": rule.id, "file": rule.file, "source": rule.source, "cost": cost_words(rule),
                      "forbid": rule.forbid, "allow": rule.allow, "broken": broken, "suspect": suspect})
    return table


def kinds(students):
    """Failed checks by kind (pending ones are not failed), counting students and checks; kinds nobody met are left
    out, the rest by how many students they concern."""
    failed = [(sid, CheckKind.of(t)) for sid, r in students.items() for t in r.get("tests", [])]
    rows = []
    for kind in (k for k in CheckKind if k.failed):
        of_kind = [sid for sid, k in failed if k == kind]
        who = sorted(set(of_kind))
        if who:
            rows.append({"kind": kind, "checks": len(of_kind), "students": who,
                         "percent": round(100 * len(who) / len(students))})
    return sorted(rows, key=lambda r: -len(r["students"]))


def pending(spec, students):
    """Students with checks not graded yet, their points waiting, and the staff command that grades them."""
    rows = []
    for sid in sorted(students):
        waiting = [t for t in students[sid].get("tests", []) if CheckKind.of(t) == CheckKind.PENDING]
        if waiting:
            rows.append({"id": sid, "checks": [t["name"] for t in waiting],
                         "points": sum(t["max_score"] for t in waiting)})
    return {"students": rows, "command": COMPLETE.format(id=spec.id)}


def machine_problems(students):
    """What the machine, not the students' code, may have cost: checks it kept from finishing after their retry
    (kind regrade), and limits hit on checks where the class's reference entry hit a limit too. Without a reference
    entry the report cannot tell a slow machine from slow code, and says so (`reference_graded`)."""
    reference = students.get(REFERENCE)
    slow = {t["number"] for t in (reference or {}).get("tests", []) if CheckKind.of(t) == CheckKind.LIMIT}
    rows = []
    for sid in sorted(students):
        tests = students[sid].get("tests", [])
        regrade = [t["name"] for t in tests if CheckKind.of(t) == CheckKind.REGRADE]
        limits = [t["name"] for t in tests if CheckKind.of(t) == CheckKind.LIMIT and t["number"] in slow]
        if regrade or limits:
            rows.append({"id": sid, "regrade": regrade, "limits": limits})
    return {"students": rows, "reference_graded": reference is not None}


def attention(row):
    """A student row's place in the table: the grader's and the machine's problems first, then the lowest score."""
    return (row["grader_error"] is None, not row["machine"], row["score"], row["id"])


def rows(spec, students):
    """One row per student, what needs attention first: score and points per part (None where the part was not
    graded), failed checks of the files handed in, the files not handed in, pending checks."""
    table = []
    for sid in students:
        tests = students[sid].get("tests", [])
        by_part = {}
        for t in tests:
            if len(t.get("tags", [])) > 1 and t["number"] != "0":
                by_part[t["tags"][1]] = by_part.get(t["tags"][1], 0) + t["score"]
        kinds = [CheckKind.of(t) for t in tests]
        table.append({"id": sid, "score": students[sid].get("score", 0),
                      "parts": [by_part.get(p.id) for p in spec.parts],
                      "failed": sum(k.failed and k != CheckKind.MISSING for k in kinds),
                      "missing": sorted({t["tags"][0] for t, k in zip(tests, kinds, strict=True)
                                         if k == CheckKind.MISSING}),
                      "pending": kinds.count(CheckKind.PENDING),
                      "pending_points": sum(t["max_score"] for t, k in zip(tests, kinds, strict=True)
                                            if k == CheckKind.PENDING),
                      "machine": any(k.whose == Whose.MACHINE for k in kinds),
                      "grader_error": grader_error(students[sid])})
    return sorted(table, key=attention)


def training_time(result):
    """The seconds a student's threshold jobs trained (results.json extra_data), 0 when none ran."""
    return (result.get("extra_data") or {}).get("training_time", 0)


def seconds(result):
    """A student's whole time: grading and training."""
    return result.get("execution_time", 0) + training_time(result)


def full_marks(spec, table):
    """How many students of `table` (rows()) have every point of the checks graded so far: a pending check's
    points are left aside (not yet earned, not lost), a grader failure is never full marks."""
    return sum(r["score"] >= spec.max_score - r["pending_points"] for r in table if r["grader_error"] is None)


def summarize(spec, students):
    table = rows(spec, students)
    completed = [r["score"] for r in table if r["grader_error"] is None]
    slowest = sorted(students, key=lambda sid: -seconds(students[sid]))[:SLOWEST]
    return {"n": len(students), "completed": len(completed), "rows": table,
            "mean": statistics.fmean(completed) if completed else None,
            "median": statistics.median(completed) if completed else None,
            "full_marks": full_marks(spec, table),
            "histogram": histogram(completed, spec.max_score), "checks": check_rates(spec, students),
            "bugs": bugs(students), "kinds": kinds(students), "rules": rules(spec, students),
            "slowest": [{"id": sid, "time": seconds(students[sid]), "grading": students[sid].get("execution_time", 0),
                         "training": training_time(students[sid]), "score": students[sid].get("score", 0)}
                        for sid in slowest],
            "grader_failures": [r for r in table if r["grader_error"] is not None],
            "to_regrade": to_regrade(students), "pending": pending(spec, students),
            "machine": machine_problems(students)}


def to_regrade(students):
    """Students with checks the machine kept from finishing: their grade is to be done again."""
    return [{"id": r["id"], "checks": r["regrade"]} for r in machine_problems(students)["students"] if r["regrade"]]
