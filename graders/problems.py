"""What can go wrong with a submission, as exceptions that carry feedback in the student's terms.

Checks let these propagate; the pytest plugin turns them into a failed check with a specific message,
never a traceback of the grader.
"""
from contextlib import contextmanager

from graders.check_kinds import CheckKind


class SubmissionProblem(Exception):
    """Base: the message is the feedback; `kind` groups problems in reports and tags. `student_output`, when
    set, is what the student's code printed before the problem: quoted apart, never part of the message."""
    kind = CheckKind.WRONG
    student_output = None


class InterfaceError(SubmissionProblem):
    """Missing or renamed function, changed signature, wrong return type, code that needs a GPU."""
    kind = CheckKind.INTERFACE


class NotGradable(InterfaceError):
    """The function cannot be called at all (missing, unparseable, its definition raised): no input involved."""


class SignatureMismatch(InterfaceError):
    """The call's arguments do not fit the student's definition (a TypeError raised by the call itself): a
    caller that knows another convention may try it."""


class StudentError(SubmissionProblem):
    """The student's code raised an exception."""
    kind = CheckKind.ERROR


class LimitExceeded(SubmissionProblem):
    """A sandbox limit stopped the student's code (wall time, memory, output size, budget)."""
    kind = CheckKind.LIMIT


class MachineProblem(SubmissionProblem):
    """The machine, not the student's code, stopped a call: it stayed runnable past the wall-clock backstop
    twice without using its CPU budget (a host too busy to run it). 0 points until it is regraded; the grade
    exits 1, the contract's "grader failure"."""
    kind = CheckKind.REGRADE


class NotChecked(SubmissionProblem):
    """The check could not determine what it checks (weights it could not find, a layout it could not tell):
    never silent full marks. 0 points, shown to staff apart from wrong output, until they decide."""
    kind = CheckKind.UNCHECKED


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
