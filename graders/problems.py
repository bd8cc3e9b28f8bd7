"""What can go wrong with a submission, as exceptions that carry feedback in the student's terms.

Checks let these propagate; the pytest plugin turns them into a failed check with a specific message,
never a traceback of the grader.
"""
from contextlib import contextmanager

# Every kind an outcome may have, with the words reports use for it: the one list results, reports and the class
# page read. "regrade" and "unchecked" cost points now but are not verdicts on the student's code: staff see them
# apart (a machine too busy to finish a call twice; a check that could not find what it checks).
KIND_LABELS = {"wrong": "wrong output", "interface": "interface error", "error": "error while checking",
               "limit": "limit hit", "regrade": "machine problem: regrade", "unchecked": "could not be checked",
               "pending": "pending", "kit": "not in the self-check kit", "grader": "grader failure",
               "rule": "handout rule broken"}
KINDS = tuple(KIND_LABELS)


class SubmissionProblem(Exception):
    """Base: the message is the feedback; `kind` groups problems in reports and tags. `student_output`, when
    set, is what the student's code printed before the problem: quoted apart, never part of the message."""
    kind = "problem"
    student_output = None


class InterfaceError(SubmissionProblem):
    """Missing or renamed function, changed signature, wrong return type, code that needs a GPU."""
    kind = "interface"


class NotGradable(InterfaceError):
    """The function cannot be called at all (missing, unparseable, its definition raised): no input involved."""


class SignatureMismatch(InterfaceError):
    """The call's arguments do not fit the student's definition (a TypeError raised by the call itself): a
    caller that knows another convention may try it."""


class StudentError(SubmissionProblem):
    """The student's code raised an exception."""
    kind = "error"


class LimitExceeded(SubmissionProblem):
    """A sandbox limit stopped the student's code (wall time, memory, output size, budget)."""
    kind = "limit"


class MachineProblem(SubmissionProblem):
    """The machine, not the student's code, stopped a call: it stayed runnable past the wall-clock backstop
    twice without using its CPU budget (a host too busy to run it). 0 points until it is regraded; the grade
    exits 1, the contract's "grader failure"."""
    kind = "regrade"


class NotChecked(SubmissionProblem):
    """The check could not determine what it checks (weights it could not find, a layout it could not tell):
    never silent full marks. 0 points, shown to staff apart from wrong output, until they decide."""
    kind = "unchecked"


class NotRecorded(LookupError):
    """A student kit has no recorded result of the trusted code for this input (see graders/replay.py), so only
    the course autograder can check it. Not a SubmissionProblem, which checks may excuse; a bug diagnosis takes
    it as "not this bug"."""


class CheckFailed(AssertionError):
    """A check's verdict on wrong output; `feedback` is a graders.checks.feedback.Feedback."""

    def __init__(self, feedback):
        super().__init__(feedback.render())
        self.feedback = feedback


@contextmanager
def about(case, repro=None):
    """Attach the input being checked to any problem the student's code raises, for the feedback.

    The first input sticks: a tripped limit is re-raised as the same object on later (shrunk) inputs, and
    the feedback must name the input that actually hit the limit.
    """
    try:
        yield
    except SubmissionProblem as e:
        if getattr(e, "case", None) is None and not isinstance(e, NotGradable):
            e.case, e.repro = case, repro
        raise
