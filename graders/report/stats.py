"""What the class page shows, computed from the students' results dicts. The page is for staff, so hidden checks
and the diagnoses of hidden checks (extra_data.diagnoses) count here."""
import math
import statistics

from graders.problems import KINDS
from graders.rules import cost_words, evidence

HISTOGRAM = {"width": 640, "height": 200, "left": 12, "right": 12, "top": 18, "bottom": 34}
SLOWEST = 5


def _number(number):
    return tuple(int(x) for x in number.split("."))


def grader_error(results):
    """The message of the "Grader" test (number 0), which says the grader itself failed; None when it did not."""
    return next((t["output"] for t in results.get("tests", []) if t["number"] == "0"), None)


def kind_of(test):
    tags = test.get("tags", [])
    return "grader" if test["number"] == "0" else tags[2] if len(tags) > 2 and tags[2] in KINDS else "wrong"


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
    """Every check in spec order with how many of the students graded on it passed."""
    rows = []
    for p, part in enumerate(spec.parts, start=1):
        for c, check in enumerate(part.checks, start=1):
            number = f"{p}.{c}"
            tests = [t for r in students.values() for t in r.get("tests", []) if t["number"] == number]
            passed = sum(t["status"] == "passed" for t in tests)
            rows.append({"number": number, "part": part.title, "title": check.title, "points": check.points,
                         "visibility": check.visibility.value, "graded": len(tests), "passed": passed,
                         "percent": round(100 * passed / len(tests)) if tests else None})
    return rows


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
    """Failed checks by kind (wrong output, interface, error, limit, grader), counting students and checks."""
    failed = [(sid, t) for sid, r in students.items() for t in r.get("tests", []) if t["status"] != "passed"]
    rows = []
    for kind in KINDS:
        of_kind = [(sid, t) for sid, t in failed if kind_of(t) == kind]
        who = sorted({sid for sid, _ in of_kind})
        rows.append({"kind": kind, "checks": len(of_kind), "students": who,
                     "percent": round(100 * len(who) / len(students)) if students else 0})
    return rows


def rows(spec, students):
    """One row per student, by id: score and points per part (None where the part was not graded)."""
    table = []
    for sid in sorted(students):
        tests = students[sid].get("tests", [])
        by_part = {}
        for t in tests:
            if len(t.get("tags", [])) > 1 and t["number"] != "0":
                by_part[t["tags"][1]] = by_part.get(t["tags"][1], 0) + t["score"]
        table.append({"id": sid, "score": students[sid].get("score", 0),
                      "parts": [by_part.get(p.id) for p in spec.parts],
                      "failed": sum(t["status"] != "passed" for t in tests),
                      "grader_error": grader_error(students[sid])})
    return table


def summarize(spec, students):
    table = rows(spec, students)
    completed = [r["score"] for r in table if r["grader_error"] is None]
    slowest = sorted(students, key=lambda sid: -students[sid].get("execution_time", 0))[:SLOWEST]
    return {"n": len(students), "completed": len(completed), "rows": table,
            "mean": statistics.fmean(completed) if completed else None,
            "median": statistics.median(completed) if completed else None,
            "histogram": histogram(completed, spec.max_score), "checks": check_rates(spec, students),
            "bugs": bugs(students), "kinds": kinds(students), "rules": rules(spec, students),
            "slowest": [{"id": sid, "time": students[sid].get("execution_time", 0),
                         "score": students[sid].get("score", 0)} for sid in slowest],
            "grader_failures": [r for r in table if r["grader_error"] is not None],
            "to_regrade": to_regrade(students)}


def to_regrade(students):
    """Students with checks the machine kept from finishing (kind "regrade"): their grade is to be done again."""
    rows = []
    for sid in sorted(students):
        checks = [t["name"] for t in students[sid].get("tests", []) if kind_of(t) == "regrade"]
        if checks:
            rows.append({"id": sid, "checks": checks})
    return rows
