"""The pytest plugin that runs an assignment's checks in the grader process and records their outcomes.

Checks are ordinary pytest tests. This plugin hands them the `submission` fixture (proxies into the
sandbox and the spec's tolerances), keeps only the checks the spec selects, and turns each failure into
feedback: a CheckFailed carries structured feedback, a SubmissionProblem its message.
"""
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.internal.conjecture import providers
from hypothesis.internal.reflection import function_digest

from graders import replay
from graders.check_kinds import CheckKind
from graders.checks.feedback import Feedback
from graders.problems import CheckFailed, NotRecorded, SubmissionProblem

# Hypothesis also draws constants found in the source of every "local" (not installed) module loaded so far:
# graders/, reference/, a student kit's stand-ins. The examples would then depend on the entry point (grade, batch,
# a kit), the import order and unrelated edits. Every run must see the same examples: draw none. Hypothesis has no
# public switch for this: it is the one private name the grader sets (function_digest, below, it only calls), within
# the range pyproject pins and without a guard, so a release without it fails here and one that changes the draws
# fails tests/test_drawn_examples.py.
providers._get_local_constants = providers.Constants
GRADERS = dict(derandomize=True, database=None, deadline=None, max_examples=25, print_blob=False,
               report_multiple_bugs=False, suppress_health_check=list(HealthCheck))
settings.register_profile("graders", **GRADERS, phases=(Phase.explicit, Phase.generate, Phase.shrink))
# A student kit never shrinks: shrinking makes new inputs, which the kit has no recorded expected values for.
settings.register_profile("graders-kit", **GRADERS, phases=(Phase.explicit, Phase.generate))


CONFIGURED = set()  # checks given the grader's settings and seed in this process (forked graders inherit them)


def configure(test, profile):
    """Give a hypothesis check `profile`'s settings and its seed, with hypothesis's public decorators, once per
    process (hypothesis refuses a second @settings). @given binds the settings in force when the check's module was
    imported, which may have been before the profile was loaded (any process that imported the checks first), so
    they are set outright. Where the profile derandomizes, the seed is derandomize's own, taken from the check's
    source by hypothesis's digest (the examples are exactly the derandomized ones), but fixed now: derandomize
    digests whatever `inner_test` is when the check runs, and a batch replaces it to record the examples. A student
    kit seeds by the check's name (replay.reseed)."""
    if test in CONFIGURED:
        return
    chosen = settings.get_profile(profile)
    settings(chosen)(test)
    if profile == "graders-kit":
        replay.reseed(test, test.__name__)
    elif chosen.derandomize:  # benchmarks/wide_examples.py turns it off to draw fresh examples
        seed(derandomized_seed(test))(test)
    CONFIGURED.add(test)


def derandomized_seed(test):
    """The seed settings(derandomize=True) draws `test`'s examples from: hypothesis's digest of its source."""
    return int.from_bytes(function_digest(test.hypothesis.inner_test), "big")


class Examples:
    """The examples hypothesis draws for each check of a submission that passes it, kept to be replayed.

    With derandomize, hypothesis draws the same examples in the same order for every submission that passes
    every one of them. `graders batch` records them while grading the reference (`recording`), then each
    forked grader runs a check's recorded examples directly (`replaying`), skipping hypothesis's engine,
    which is most of a grade's time. The first example that fails hands the check back to hypothesis, which
    finds and shrinks that failure as always: the outcome is the same either way (tests/test_batch.py).
    """
    recording = False
    replaying = False
    drawn = {}  # check (module.name) -> [the drawn keyword arguments of each example, in order]

    @classmethod
    def run(cls, name, test, fixtures):
        """True when the check ran here (recorded, or replayed and passed); None lets pytest call it."""
        inner = test.hypothesis.inner_test
        if cls.recording:
            drawn = []

            def record(**kwargs):
                drawn.append({k: v for k, v in kwargs.items() if k not in fixtures})
                return inner(**kwargs)
            test.hypothesis.inner_test = record
            try:
                test(**fixtures)
            finally:
                test.hypothesis.inner_test = inner
            cls.drawn[name] = drawn  # only a check that passed every example gets here
            return True
        if cls.replaying and name in cls.drawn:
            try:
                for kwargs in cls.drawn[name]:
                    inner(**fixtures, **kwargs)
            except Exception:  # hypothesis reruns the check, then finds and reports the failure
                return None
            return True
        return None


@dataclass
class Outcome:
    passed: bool
    output: str = ""              # the feedback as text (Gradescope shows it)
    kind: CheckKind | None = None  # how it failed; None for a passed check
    bug: str | None = None
    feedback: Feedback | None = None  # the fields `output` was rendered from; None for a plain message

    @classmethod
    def of(cls, feedback, kind, passed=False):
        return cls(passed, feedback.render(), kind, feedback.bug, feedback)


class GradingPlugin:
    def __init__(self, submission, selected):
        self._submission = submission
        self.selected = set(selected)
        self.outcomes = {}
        self.collected = set()
        self.profile = "graders-kit" if replay.KIT else "graders"
        settings.load_profile(self.profile)

    def pytest_configure(self, config):
        config.option.tbstyle = "native"  # the cheapest traceback pytest keeps; feedback comes from the exception

    @pytest.fixture
    def submission(self):
        return self._submission

    def pytest_collection_modifyitems(self, config, items):
        """Keep the selected checks; those of a file the submission lacks fail without running, with the
        intake's message (what each would say, at no cost: a class handing in one section of several)."""
        self.collected = {item.originalname for item in items}
        missing = self._submission.missing()
        files = {check.name: part.file for part in self._submission.spec.parts for check in part.checks}
        for item in items:
            if item.originalname in self.selected and files.get(item.originalname) in missing:
                self.outcomes[item.originalname] = Outcome(False, missing[files[item.originalname]],
                                                           CheckKind.MISSING)
        kept = [item for item in items if item.originalname in self.selected and item.originalname not in self.outcomes]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
        for item in kept:
            if hasattr(item.obj, "hypothesis"):
                configure(item.obj, self.profile)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        test = pyfuncitem.obj
        if not hasattr(test, "hypothesis") or not (Examples.recording or Examples.replaying):
            return None
        fixtures = {arg: pyfuncitem.funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
        ran = Examples.run(f"{test.__module__}.{pyfuncitem.originalname}", test, fixtures)
        if ran is None:
            self._submission.begin_check()  # a limit hit while replaying must not pre-empt hypothesis
        return ran

    def pytest_runtest_setup(self, item):
        self._submission.check = item.originalname
        self._submission.begin_check()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """Record the check's outcome from its exception, and give pytest a report without a traceback:
        nothing reads one, and formatting them cost ~15 ms a buggy submission."""
        failed = call.excinfo is not None
        if call.when == "call" or (call.when == "setup" and failed):
            name = item.originalname
            if failed:
                self.outcomes[name] = outcome_of(call.excinfo.value)
            else:
                self.outcomes.setdefault(name, Outcome(True, self._submission.notes.get(name, "")))
            outcome = self.outcomes[name]
            outcome.output = "\n".join(filter(None, [outcome.output, *self._submission.definition_notes(name)]))
        return pytest.TestReport(item.nodeid, item.location, {}, "failed" if failed else "passed",
                                 "see the grader's outcome" if failed else None, call.when,
                                 duration=call.duration, start=call.start, stop=call.stop)


def outcome_of(exc):
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, CheckFailed):
        return Outcome.of(exc.feedback, CheckKind.WRONG)
    if isinstance(exc, SubmissionProblem):
        summary, *details = str(exc).splitlines() or [""]
        return Outcome.of(Feedback(summary, getattr(exc, "case", None), details, repro=getattr(exc, "repro", None),
                                   student_output=exc.student_output), exc.kind)
    if isinstance(exc, NotRecorded):
        return Outcome(False, str(exc), CheckKind.KIT)
    if isinstance(exc, AssertionError):
        return Outcome(False, str(exc).split("\nassert ")[0] or "a check assertion failed", CheckKind.WRONG)
    return Outcome(False, f"the check could not evaluate the output ({type(exc).__name__}: {str(exc)[:300]})",
                   CheckKind.ERROR)


def run(spec, submission, selected, workdir):
    """Run the selected checks of `spec`; every selected check gets an outcome.

    Hypothesis keeps its files under `workdir`, never in the directory the grader was started from.
    """
    import importlib
    from pathlib import Path

    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(workdir) / "hypothesis")
    package = importlib.import_module(spec.checks)
    folder = Path(package.__file__).parent
    plugin = GradingPlugin(submission, selected)
    # Speed (a grade is ~0.6 s; batch grading runs hundreds): unraisableexception runs gc.collect() five
    # times a session (0.23 s); hypothesis's pytest plugin and pytest's default traceback style parse the
    # source of every frame of every failure (0.1-0.3 s for a buggy submission; see pytest_configure);
    # logging adds and removes its capture handlers on every phase of every check, and no check logs.
    args = [str(folder), "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:unraisableexception",
            "-p", "no:hypothesispytest", "-p", "no:logging", "--noconftest",
            "--rootdir", str(folder), "-c", str(Path(__file__).with_name("pytest.ini"))]
    status = pytest.main(args, plugins=[plugin])
    if status in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise RuntimeError(f"pytest could not run the checks of {spec.id} ({status.name})")
    for name in selected:
        if name not in plugin.outcomes:
            why = "is missing from the checks" if name not in plugin.collected else "did not run"
            plugin.outcomes[name] = Outcome(False, f"grader problem: check {name} {why}", CheckKind.GRADER)
    return plugin.outcomes
