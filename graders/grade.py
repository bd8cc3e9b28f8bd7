"""Grade one submission: intake, extraction, sandbox, checks, result.

The sandbox child is started before torch and the checks are imported here, so both imports overlap.
"""
import importlib
import importlib.util
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from graders import budget, rules
from graders import spec as specs
from graders.extract import Extraction, extract
from graders.others import aliases, ordered
from graders.others import collect as other_files
from graders.sandbox.session import Session, StudentModule
from graders.sandbox.worker import Limits
from graders.submission import Cell, SourceFile, collect, scratch_dir
from graders.values import instrument


@dataclass
class Ran:
    """What computing a memoized value ran: per session the watched names its calls reached, per spec file the
    student's names it called."""
    reached: dict
    used: dict = field(default_factory=dict)


class Submission:
    """What checks receive as the `submission` fixture (docs/authoring.md, Checks).

    Checks use its methods: module, other_modules, source, extraction, defined, memo, note, write, tolerance, and
    `spec` and `others`. The rest is the engine's. It takes no attribute of a check's own (__slots__): state a check
    keeps goes in memo(), which also forgets what a restarted sandbox child no longer holds."""

    __slots__ = ("spec", "intake", "extractions", "others", "sessions", "session", "check", "notes", "used",
                 "watched", "_memo", "_captures")

    def __init__(self, spec, intake, extractions, sessions, others=()):
        self.spec, self.intake, self.extractions = spec, intake, extractions
        self.others = list(others)    # the hand-in's other Python files loaded as modules (graders/others.py)
        self.sessions = sessions      # None (the shared child) or a file with `own_session` -> its Session
        self.session = sessions[None]
        self.check = None             # the check running now; the plugin sets it
        self.notes = {}               # check -> a line shown with its outcome, passed or not
        self.used = {}                # check -> {file name: {student names it called}}
        ruled = {r.file for r in spec.rules}
        self.watched = {c.name for p in spec.parts if p.file in ruled for c in p.checks}  # their calls are recorded
        self._memo = {}
        self._captures = []           # Ran records of the memo() values being computed now, innermost last

    def source(self, file_name):
        """The spec file as handed in (graders.submission.SourceFile: its cells, path, problem), or None."""
        return self.intake.files.get(file_name)

    def extraction(self, file_name):
        """What extraction kept of the spec file (graders.extract.Extraction: classes, broken, setters, reads)."""
        return self.extractions[file_name]

    def defined(self, module):
        """{name: what it is} of the sandbox module `module` (a spec file's module, or one of `others`), as loaded."""
        owner = next((f.name for f in self.spec.files if f.module == module), None)
        return self.session_of(owner).names(module)

    def memo(self, key, compute, per_child=True):
        """compute() once, then its value: per sandbox child where `per_child` (its objects, handles and readings
        die with a restarted child), else per submission. Every check that gets the value is credited with what
        computing it ran (the watched APIs its calls reached, the student's names it called), so that a handout
        rule's verdict does not depend on which check happened to compute it first (graders/rules.py)."""
        generation = self.session.generation if per_child else None
        hit = self._memo.get(key)
        if hit is None or hit[0] != generation:
            ran = Ran({session: set() for session in self.sessions.values()})
            for session, names in ran.reached.items():
                session.captures.append(names)
            self._captures.append(ran)
            try:
                value = compute()
            finally:
                self._captures.pop()
                for session in ran.reached:
                    session.captures.pop()
            hit = self._memo[key] = (generation, value, ran)
        self._credit(hit[2])
        return hit[1]

    def _credit(self, ran):
        for session, names in ran.reached.items():
            if names and self.check in self.watched:
                session.reached.setdefault(self.check, set()).update(names)
        for file_name, names in ran.used.items():
            self.used.setdefault(self.check, {}).setdefault(file_name, set()).update(names)

    def _called(self, file_name, name):
        """The running check (and any memo() value being computed) called the student's `name` of `file_name`."""
        self.used.setdefault(self.check, {}).setdefault(file_name, set()).add(name)
        for ran in self._captures:
            ran.used.setdefault(file_name, set()).add(name)

    def write(self, files):
        """Input files ({name: text}) in the sandbox's working directory, for the student's code to read."""
        self.session.write(files)

    def note(self, text):
        """Tell the student something about the running check even if it passes (which reading of the
        handout their code follows); the first note of a check stands."""
        self.notes.setdefault(self.check, text)

    def module(self, file_name):
        source = self.spec.source(file_name)
        extraction = self.extractions[file_name]
        return StudentModule(self.session_of(file_name), source.module, self.intake.files[file_name], extraction,
                             source.classes + (extraction.classes if source.any_classes else []),
                             lambda name: self._called(file_name, name))

    def other_modules(self, file_name):
        """[(graders.others.Other, StudentModule)] of the hand-in's other Python files loaded beside `file_name` (a
        spec file with `other_files`), in the order they were found."""
        return [(o, StudentModule(self.session_of(file_name), o.module, o.source, o.extraction, o.extraction.classes,
                                  lambda name: None)) for o in self.others]

    def session_of(self, file_name):
        """The sandbox session that runs `file_name`'s code (its own when the spec says `own_session`)."""
        return self.sessions.get(file_name, self.session)

    def begin_check(self):
        for session in self.sessions.values():
            session.begin_check(self.check, self.check in self.watched)

    def protections(self):
        """What the first child that started reported about its sandbox (the same for every child)."""
        return next((s.protections for s in self.sessions.values() if s.protections), None)

    def definition_notes(self, check):
        """What extraction says about the definitions the check used (a later fix graded, an experiment ignored)."""
        return [note for file, names in sorted(self.used.get(check, {}).items())
                for note in self.extractions[file].notes_about(names)]

    def tolerance(self, dtype):
        return self.spec.tolerances[str(dtype).removeprefix("torch.")]

    def missing(self):
        """{file name: why} for the spec's files this submission does not hand in."""
        return {name: source.problem for name, source in self.intake.files.items() if source.path is None
                and source.problem and not self.spec.source(name).given and not self.spec.source(name).optional}


def protect_grader():
    """Make the grader process non-dumpable: same-uid processes can then neither ptrace it nor read its
    memory through /proc/<pid>/mem."""
    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE


def selected_checks(spec, visibility):
    """The pytest checks to run (threshold checks train models instead: graders/thresholds.py)."""
    return [c.name for p in spec.parts for c in p.checks
            if not c.job and (visibility == "all" or c.visibility.value == "visible")]


def given(spec, name):
    """A handout file the grader supplies, from the checks package's given/ folder."""
    path = Path(importlib.import_module(spec.checks).__file__).with_name("given") / name
    return SourceFile(name, path, [Cell(path.read_text(), f"{name} (handout)")])


@contextmanager
def prepared(path, spec, scratch, extra=None, gpu=False):
    """The submission at `path` read, extracted and loaded into a started sandbox: what checks receive.
    `extra` ([{name, package, file, source}]) is grader code loaded after the student's modules, each module of
    `package` (a training job's files: graders/jobs.py);
    `gpu` lets the sandbox child use CUDA (a training job on a GPU runner).
    Yields (Submission, notices); the sandbox stops on exit."""
    budget.stage("intake")
    intake = collect(path, [f.name for f in spec.files if not f.given], scratch,
                     {f.name: f.found_by for f in spec.files if f.found_by})
    intake.files.update({f.name: given(spec, f.name) for f in spec.files if f.given})
    notices, modules, texts, extractions = [], {None: []}, {}, {}
    for f in spec.files:
        if f.own_session and not f.given:
            modules[f.name] = []
    budget.stage("extraction")
    for f in spec.files:
        source = intake.files[f.name]
        # a data file is read by the checks and never run: nothing to extract (PA2's main.py is Python, read by ast)
        extractions[f.name] = extraction = Extraction() if f.data else extract(source.cells, f.functions + f.classes,
                                                                                f.any_classes)
        absent = f.optional and source.path is None
        notices += [] if absent else source.notices + extraction.notices + ([source.problem] if source.problem else [])
        if source.problem is None and not f.data:
            statements = instrument(extraction.texts, extraction.statements, f.values) if f.values else \
                extraction.statements
            module = {"name": f.module, "file": f.name, "statements": [asdict(s) for s in statements],
                      "aliases": aliases(source) if f.other_files else []}
            for key in modules if f.given else [f.name if f.name in modules else None]:
                modules[key].append(module)
            texts.update(extraction.texts)
    others = []
    for f in spec.files:
        if f.other_files and intake.files[f.name].problem is None:
            found, said = other_files(intake, spec, f)
            others += found
            notices += said
            key = f.name if f.name in modules else None
            modules[key] = ordered(modules[key] + [{"name": o.module, "file": o.source.name, "statements": [
                asdict(s) for s in o.extraction.statements]} for o in found if o.source.problem is None])
            texts.update({k: v for o in found for k, v in o.extraction.texts.items()})
    for code in extra or ():
        modules[None].append({"name": code["name"], "package": code["package"], "file": code["file"], "statements": [
            {"source": code["source"], "file": code["file"], "lineno": 1, "names": []}]})
        texts[code["file"]] = code["source"]
    sessions = {key: Session(loaded, texts, limits(spec, intake, gpu, key),
                             rules.watched(spec, {m["file"] for m in loaded})) for key, loaded in modules.items()}
    grader_code = {f.module for f in spec.files if f.given}
    try:
        for key, session in sessions.items():  # one that runs student code starts now: torch imports meanwhile
            if any(m["name"] not in grader_code for m in modules[key]):
                session.start()
        yield Submission(spec, intake, extractions, sessions, others), notices
    finally:
        for session in sessions.values():
            session.end()


def limits(spec, intake, gpu, key):
    """The sandbox limits of the session `key` (None: the shared one): preloads of the files it runs."""
    own = {f.name for f in spec.files if f.own_session and not f.given}
    preload = {m: None for f in spec.files if f.given or (intake.files[f.name].path is not None
                                                          and (f.name == key or key is None and f.name not in own))
               for m in f.preload}
    return Limits(call_seconds=spec.limits.call_seconds, submission_seconds=spec.limits.submission_seconds,
                  memory_mib=spec.limits.memory_mib, gpu=gpu, preload=tuple(preload))


def figures(spec, submission):
    """The pictures the assignment's `figures` module draws for the report (attention maps), or []."""
    name = f"{spec.checks}.figures"
    if importlib.util.find_spec(name) is None:
        return []
    budget.stage("figures")
    submission.check = "figures"
    submission.begin_check()
    return importlib.import_module(name).figures(submission)


def grade_or_explain(path, spec, visibility="all", thresholds=None):
    """(Result, exit status): a grader that fails still yields a result that says so (the CLI contract). A check the
    machine kept from finishing (kind "regrade") makes the status 1 too: the grade is not complete."""
    import traceback

    from graders.results import Result

    try:
        result = grade(path, spec, visibility=visibility, thresholds=thresholds)
        return result, 1 if result.to_regrade else 0
    except Exception as e:
        detail = "".join(traceback.format_exception_only(e)).strip()
        return Result(spec, {}, error=f"The grader failed before finishing ({detail}); please tell course staff."), 1


@dataclass(frozen=True)
class Thresholds:
    """How to grade threshold checks: `run` their jobs (on `options`' runner) or mark them `pending`."""
    mode: str = "run"
    profile: str = "smoke"
    options: object = None         # graders.runners.Options
    data_dir: Path | None = None
    view: object = None            # graders.training.TrainingView: the jobs' progress on the terminal


def grade(path, assignment, visibility="all", thresholds=None):
    """Grade the submission at `path`; threshold checks only when `thresholds` says how (they train models), and
    under `visibility` "public" only the visible ones (a student's `graders check --train`)."""
    from graders.results import Result

    protect_grader()
    started = time.monotonic()
    spec = specs.get(assignment) if isinstance(assignment, str) else assignment
    scratch = scratch_dir()
    try:
        with prepared(path, spec, scratch) as (submission, notices):
            from graders import plugin

            budget.stage("checks")
            outcomes = plugin.run(spec, submission, selected_checks(spec, visibility), scratch)
            verdicts = rules.judge(spec, submission, outcomes)
            pictures = figures(spec, submission) if visibility == "all" else []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    graded, training = time.monotonic(), 0.0
    if thresholds:
        from graders import thresholds as jobs

        shown = spec if visibility == "all" else spec.only({c.name for _, c in jobs.job_checks(spec)
                                                            if c.visibility.value == "visible"})
        if thresholds.mode == "pending":
            outcomes.update(jobs.pending(shown, thresholds.profile))
        elif jobs.job_checks(shown):
            budget.stage("thresholds")
            trained = jobs.evaluate({"student": path}, shown, thresholds.profile, thresholds.options,
                                    thresholds.data_dir, thresholds.view)["student"]
            outcomes.update(trained.outcomes)
            pictures += trained.figures
            training = time.monotonic() - graded
    warnings = {w: None for s in submission.sessions.values() for w in s.warnings()}
    return Result(spec, outcomes, notices + list(warnings) + rules.notices(verdicts),
                  graded - started, training, sandbox=submission.protections(), figures=pictures, rules=verdicts)
