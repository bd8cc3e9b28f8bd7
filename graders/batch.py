"""`graders batch`: grade a class from one warm process, and resume a batch that was killed.

The parent imports torch, the checks and the reference once, grades one warm-up submission (so lazy
imports and first-call costs are paid once), starts a sandbox zygote, and then forks one grader per
student: every student gets a fresh process with nothing of another student's in it, without paying
for Python and torch again. Each grader writes its student's results.json and report atomically, then
appends one line to the journal; a batch started again with --resume skips the students the journal
names, so a batch killed at any moment ends, once resumed, with every student graded exactly once.
"""
import gc
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from graders import expected, packs
from graders.check_kinds import CheckKind
from graders.results import Result, gradescope, write_json

SUFFIXES = (".py", ".ipynb", ".zip")
REGRADE = 3  # a forked grader's exit status: the student is graded, but the machine kept checks from finishing


@dataclass(frozen=True)
class Student:
    id: str
    path: Path


def students(folder):
    """One student per entry of `folder` (a file or a folder), named by the entry without its suffix."""
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"
                     and (p.is_dir() or p.suffix.lower() in SUFFIXES))
    stems = [p.stem if p.is_file() else p.name for p in entries]
    return [Student(stem if stems.count(stem) == 1 else p.name, p) for stem, p in zip(stems, entries, strict=True)]


class Journal:
    """An append-only log, one JSON line per graded student; a line is written in one write(2)."""

    def __init__(self, path):
        self.path = path

    def entries(self):
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]  # a torn last line is ignored

    def append(self, entry):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(entry) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


def student_dir(out, student_id):
    return out / "students" / student_id


def record(out, journal, student, result, seconds):
    """Write a student's results.json and report, then journal them: the journal line comes last."""
    data = gradescope(result)
    folder = student_dir(out, student.id)
    write_json(folder / "results.json", data)
    html = folder / ".report.html"
    html.write_text(student_page(data, student.id))
    html.replace(folder / "report.html")
    journal.append({"student": student.id, "score": data["score"], "max_score": result.spec.max_score,
                    "seconds": round(seconds, 3), "grader_failed": bool(result.error),
                    "regrade": len(result.to_regrade),
                    "pending": sum(o.kind == CheckKind.PENDING for o in result.outcomes.values()),
                    "rules": {v["rule"]: v["points"] for v in result.rules if v["broken"]}})


def student_page(data, student_id):
    """The student's report; if drawing it fails, a page that says so (results.json still holds the grade)."""
    import html

    from graders import report

    try:
        return report.student_report(data, student_id, class_link="../../index.html")
    except Exception as e:
        return (f"<!doctype html><meta charset=utf-8><title>{html.escape(student_id)}</title><p>The report could "
                f"not be drawn ({html.escape(repr(e)[:300])}); results.json holds the grade: {data['score']:g}.</p>")


def handed_in(spec, path):
    """The names of the spec's files that the submission at `path` holds (none if it cannot be read)."""
    import shutil

    from graders.submission import collect, scratch_dir

    scratch = scratch_dir()
    try:
        intake = collect(path, [f.name for f in spec.files if not f.given], scratch,
                     {f.name: f.found_by for f in spec.files if f.found_by})
        return {name for name, source in intake.files.items() if source.path is not None}
    except (OSError, ValueError):
        return set()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def warm_up(spec, first):
    """Import and exercise everything a grader uses once, in the parent; forks inherit it. The reference is
    graded on the parts whose files the first student hands in (a class handing in A2S2 alone need not load
    A2S3's transformers), on every part when that student's files cannot be told."""
    import torch

    from graders.grade import grade_or_explain
    from graders.plugin import Examples

    torch.set_num_threads(1)  # one grader per core; and OpenMP's thread pool does not survive fork
    # a spec only an override folder holds (graders.spec.OVERRIDES) has no sample class: the first student warms up
    reference = packs.samples(spec.id) / "reference" if spec.id in packs.specs() else None
    files = handed_in(spec, first.path)
    parts = [p for p in spec.parts if p.file in files] or spec.parts
    Examples.drawn, Examples.recording = {}, reference is not None and reference.is_dir()  # it passes every check
    try:
        result, _ = grade_or_explain(reference if Examples.recording else first.path,
                                     spec.model_copy(update={"parts": parts}))
    finally:
        Examples.recording = False
    Examples.replaying = True
    student_page(gradescope(result), "warm-up")  # compiles the templates
    gc.collect()
    gc.freeze()  # forks neither scan nor copy the parent's objects when they collect


def grade_in_child(out, journal, spec, student, thresholds, seconds):
    """The forked grader: never returns. Exit 0 means the student is graded and journaled, also when grading ran
    past its budget of `seconds` (graders/budget.py): the result then says so."""
    from graders import budget
    from graders.grade import grade_or_explain
    from graders.sandbox.confine import PR_SET_PDEATHSIG, _prctl

    status = 1
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a killed batch leaves no grader behind
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        started = time.monotonic()

        def overrun(stage, seconds):
            error = budget.message(stage, seconds)
            record(out, journal, student, Result(spec, {}, error=error), time.monotonic() - started)

        with budget.Budget(seconds, overrun, status=0):
            result, _ = grade_or_explain(student.path, spec, thresholds=thresholds)
        record(out, journal, student, result, time.monotonic() - started)
        status = REGRADE if result.to_regrade else 0
    finally:
        os._exit(status)


def run(todo, spec, out, journal, workers, progress, thresholds, seconds):
    """Fork up to `workers` graders at a time, each with a budget of `seconds`; a grader that dies or overruns
    fails its student only."""
    from graders.sandbox.worker import sweep

    # A backstop for a grader that hangs past its own budget (its watchdog thread stopped from exiting).
    limit = seconds + 120
    queue, running = list(todo), {}
    while queue or running:
        while queue and len(running) < workers:
            student = queue.pop(0)
            pid = os.fork()
            if pid == 0:
                grade_in_child(out, journal, spec, student, thresholds, seconds)
            running[pid] = (student, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for pid, (_, started) in running.items():
                if time.monotonic() - started > limit:
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)
            continue
        student, started = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, REGRADE):
            sweep()  # its sandbox's uid may still run what the student's code started
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            if time.monotonic() - started > limit:
                how = f"ran past the batch's limit of {limit:g} s"
            error = f"The grader process for this submission {how}; please tell course staff."
            record(out, journal, student, Result(spec, {}, error=error), time.monotonic() - started)
        progress(student, code)


def pending_students(out, roster):
    return [s for s in roster if (path := student_dir(out, s.id) / "results.json").exists()
            and any(CheckKind.of(t) == CheckKind.PENDING for t in json.loads(path.read_text())["tests"])]


def complete_thresholds(out, spec, roster, journal, plan, console):
    """Train for every student whose threshold checks are pending, all jobs at once on the runner (one Slurm
    job array), and merge the outcomes into their results and reports."""
    from graders import thresholds
    from graders.results import merge
    from graders.training import TrainingView

    waiting = pending_students(out, roster)
    if not waiting:
        return
    console.print(f"training for {len(waiting)} students ({plan.profile} profile, {plan.options.runner} runner)")
    done = thresholds.evaluate({s.id: s.path for s in waiting}, spec, plan.profile, plan.options, plan.data_dir,
                               TrainingView(console))
    for student in waiting:
        path = student_dir(out, student.id) / "results.json"
        data = merge(json.loads(path.read_text()), spec, *done[student.id])
        write_json(path, data)
        page = path.with_name(".report.html")
        page.write_text(student_page(data, student.id))
        page.replace(path.with_name("report.html"))
        journal.append({"student": student.id, "thresholds": plan.profile, "score": data["score"]})


def write_class(out, spec, roster):
    """The class report and the gradebook over every student graded so far."""
    from graders import report

    graded = {}
    for student in roster:
        path = student_dir(out, student.id) / "results.json"
        if path.exists():
            graded[student.id] = json.loads(path.read_text())
    links = {sid: f"students/{sid}/report.html" for sid in graded}
    for name, text in (("index.html", report.class_report(spec, graded, links)),
                       ("grades.csv", report.grades_csv(spec, graded)),
                       ("checks.csv", report.checks_csv(spec, graded))):
        tmp = out / f".{name}"
        tmp.write_text(text)
        tmp.replace(out / name)
    return graded


def agreement(out, spec, roster):
    """{student: the ways their grade disagrees with their expected.yaml} for the students whose entry carries one
    (a sample class: graders/expected.py); [] for a student whose grade is the expected one."""
    found = {}
    for student in roster:
        try:
            want, path = expected.Expected.read(student.path), student_dir(out, student.id) / "results.json"
        except ValueError as e:  # an expected.yaml that does not read: that entry disagrees, saying why
            found[student.id] = [str(e)]
            continue
        if want is not None and path.exists():
            found[student.id] = expected.disagreements(spec, want, json.loads(path.read_text()))
    return found


def main(args, spec):
    return grade_class(args.dir, spec, args.out, workers=args.workers, resume=args.resume, thresholds=args.thresholds,
                       budget_seconds=args.budget)


def grade_class(folder, spec, out, workers=None, resume=False, thresholds=None, budget_seconds=None):
    """Grade every student in `folder` into `out`; returns the exit status and writes the class report.

    Threshold checks are left pending by the graders and then, when `thresholds` says to run them, trained
    for the whole class at once; without `thresholds` (the demo) they stay pending. Each student's grading has
    a budget of `budget_seconds` (default: from the spec's limits, graders/budget.py)."""
    from rich import progress as bars
    from rich.console import Console

    from graders import budget
    from graders.grade import Thresholds
    from graders.sandbox.worker import Zygote, sweep

    console = Console(stderr=True)
    console.soft_wrap = not console.is_terminal  # piped or logged: rich would break lines, paths too, at 80 columns
    roster = students(folder)
    if not roster:
        console.print(f"graders batch: {folder} holds no submissions (files {', '.join(SUFFIXES)} or folders)")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    journal = Journal(out / "journal.jsonl")
    entries = journal.entries()
    if entries and not resume:
        console.print(f"graders batch: {out} already holds a batch; add --resume to continue it, "
                      "or choose another --out")
        return 2
    if entries and entries[0].get("assignment") != spec.id:
        console.print(f"graders batch: {out} holds a batch of {entries[0].get('assignment')}, not {spec.id}")
        return 2
    if not entries:
        journal.append({"assignment": spec.id})
    done = {e["student"] for e in entries if "student" in e}
    todo = [s for s in roster if s.id not in done or not (student_dir(out, s.id) / "results.json").exists()]
    workers = workers or len(os.sched_getaffinity(0))
    profile = thresholds.profile if thresholds else "smoke"
    console.print(f"{spec.id}: {len(roster)} students, {len(roster) - len(todo)} already graded, "
                  f"{len(todo)} to grade with {workers} workers")
    started = time.monotonic()
    sweep()  # what graders of a killed batch left in /tmp
    if todo:
        zygote = Zygote(preload=spec.preload)
        try:
            warm_up(spec, todo[0])
            columns = (bars.TextColumn("grading"), bars.BarColumn(), bars.MofNCompleteColumn(),
                       bars.TextColumn("{task.fields[failed]} grader failures, {task.fields[regrade]} to regrade"),
                       bars.TimeElapsedColumn(),
                       bars.TextColumn("ETA"), bars.TimeRemainingColumn())
            with bars.Progress(*columns, console=console, auto_refresh=False) as bar:  # no thread: the batch forks
                task = bar.add_task("grading", total=len(todo), failed=0, regrade=0)
                counts = {0: 0, REGRADE: 0, "failed": 0}

                def progress(student, code):
                    counts[code if code in counts else "failed"] += 1
                    bar.update(task, advance=1, failed=counts["failed"], regrade=counts[REGRADE])
                    bar.refresh()

                pending = Thresholds("pending", profile)
                run(todo, spec, out, journal, workers, progress, pending,
                    budget_seconds or budget.default_seconds(spec, pending))
        finally:
            zygote.stop()
    if thresholds and thresholds.mode == "run":
        complete_thresholds(out, spec, roster, journal, thresholds, console)
    from graders.report import stats

    graded = write_class(out, spec, roster)
    seconds = time.monotonic() - started
    failed = sum(stats.grader_error(r) is not None for r in graded.values())
    waiting = len(stats.pending(spec, graded)["students"])
    later = f", {waiting} with checks pending (the class report says how to grade them)" if waiting else ""
    console.print(f"graded {len(todo)} in {seconds:.1f} s ({seconds / max(len(todo), 1):.2f} s each); "
                  f"{failed} grader failures, {len(stats.to_regrade(graded))} to regrade (machine too busy){later}; "
                  f"class report: {out / 'index.html'}, gradebook: {out / 'grades.csv'} ({len(graded)} students)")
    samples = agreement(out, spec, roster)
    if not samples:
        return 0
    wrong = {sid: lines for sid, lines in samples.items() if lines}
    console.print(f"samples: {len(samples) - len(wrong)} of {len(samples)} agree with their {expected.FILE}")
    for sid, lines in wrong.items():
        console.print(f"  {sid}: " + "\n    ".join(lines), markup=False, highlight=False)
    return 1 if wrong else 0
