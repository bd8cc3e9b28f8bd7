"""The per-student page and the class page, rendered with jinja2 from results.json dicts.

Autoescape is on: feedback quotes the student's printed values, exception messages and file names. Pages are
self-contained (inline CSS, images as data: URIs, no JavaScript), and a Content-Security-Policy forbids every
external resource and script, so a page reads the same offline, years later, and nothing a student wrote can
run in a TA's browser even if escaping were ever missed.
"""

import jinja2

from graders.check_kinds import CheckKind
from graders.report import figures, stats
from graders.spec import part_title

ENV = jinja2.Environment(loader=jinja2.PackageLoader("graders.report", "templates"), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
ENV.filters["pts"] = lambda x: f"{x:g}"
ENV.globals["CheckKind"] = CheckKind


def check_view(test, prefix, fields=None):
    """One check as the student sees it, from its feedback fields (results.json's extra_data.feedback). A hidden
    check shows only the neutral message results.json gives it. A check without fields (results written before
    them, a merge of threshold outcomes into such results) shows its text as it is, with only the diagnosis of
    its tags (the grader's own) in a box of its own."""
    tags = test.get("tags", [])
    view = {"number": test["number"], "title": test["name"][len(prefix) + 2:] if prefix else test["name"],
            "passed": test["status"] == "passed", "score": test["score"], "max_score": test["max_score"],
            "hidden": test.get("visibility") != "visible", "kind": CheckKind.of(test), "bug": None, "summary": "",
            "details": "", "reproduce": "", "student_output": ""}
    output = test.get("output", "")
    if view["hidden"]:  # how a hidden check failed is not the student's to see; that it waits is
        return view | {"summary": output, "kind": view["kind"] if view["kind"] == CheckKind.PENDING else None}
    if fields is None:
        summary, *details = output.splitlines() or [""]
        tagged = [tag.removeprefix("bug: ") for tag in tags if tag.startswith("bug: ")]
        fields = {"summary": summary, "details": details, "bug": tagged[0] if tagged else None}
    case = [f"Input: {fields['case']}"] if fields.get("case") else []
    return view | {"summary": fields.get("summary", ""), "bug": fields.get("bug"),
                   "details": "\n".join(case + list(fields.get("details", []))),
                   "reproduce": fields.get("repro", ""), "student_output": fields.get("student_output", "")}


def parts(tests, feedback=None):
    """The checks grouped by part id (tags[1]), in results order, with each part's points. feedback: number ->
    fields of the visible checks (extra_data.feedback); a check without them shows its text."""
    grouped = {}
    for test in tests:
        if test["number"] != "0":
            grouped.setdefault(test["tags"][1] if len(test.get("tags", [])) > 1 else "", []).append(test)
    views = []
    for part_id, members in grouped.items():
        title = part_title([t["name"] for t in members])
        views.append({"id": part_id, "title": title or part_id,
                      "checks": [check_view(t, title, (feedback or {}).get(t["number"])) for t in members],
                      "score": sum(t["score"] for t in members), "max_score": sum(t["max_score"] for t in members),
                      "passed": sum(t["status"] == "passed" for t in members),
                      "pending": sum(CheckKind.of(t) == CheckKind.PENDING for t in members)})
    return views


def student_report(results, student, class_link=None):
    """One self-contained HTML page for one student's results.json (graders.results.gradescope's dict).
    class_link: relative href back to the class report, or None for a standalone page.
    extra_data's hidden_feedback, hidden_fields and diagnoses are for staff and are never read here."""
    extra = results.get("extra_data", {})
    return ENV.get_template("student.html").render(
        student=student, class_link=class_link, assignment=extra.get("title") or extra.get("assignment", ""),
        score=results.get("score", 0), max_score=extra.get("max_score", 0),
        execution_time=results.get("execution_time", 0), training_time=stats.training_time(results),
        environment=extra.get("environment") or {},
        notices=[n for n in results.get("output", "").splitlines() if n.strip()],
        grader_error=stats.grader_error(results), parts=parts(results.get("tests", []), extra.get("feedback")),
        figures=figures.prepare(extra.get("figures") or []))


def class_report(spec, students, links):
    """The TA's page for a class. spec: graders.spec.Assignment; students: student id -> results dict;
    links: student id -> relative href of that student's page."""
    return ENV.get_template("class.html").render(spec=spec, links=links, **stats.summarize(spec, students))


def demo_index(classes, done=True, everything=False):
    """The entry page of `graders demo`: one row per assignment's sample class, linking its class report.
    classes: dicts with id, title, course, link, max_score and state (waiting, grading, done); a done class also
    students, full, pending, mean, samples, agree, disagree (graders/demo.py). Until `done` the page reloads
    itself every few seconds (a meta refresh: the pages run no script)."""
    return ENV.get_template("demo.html").render(classes=classes, done=done, everything=everything)
