"""Feedback for a failing check: what broke, on which smallest input, where, and how to reproduce it.

The fields travel as they are to results.json (extra_data) and the reports, which never parse the rendered text:
what the student's code printed is a field of its own, so nothing it prints can pose as the grader's words.
"""
from dataclasses import asdict, dataclass, field

from graders.problems import CheckFailed

STUDENT_OUTPUT_CHARS = 2000  # the end of what the student's code printed that feedback quotes
STUDENT_OUTPUT_LABEL = "Your code printed (the end of its output):"


@dataclass
class Feedback:
    summary: str
    case: str | None = None           # the (smallest) failing input: shapes, dtype, seed
    details: list[str] = field(default_factory=list)
    bug: str | None = None            # the known bug whose output the student's matches
    repro: str | None = None          # one line of Python that rebuilds the input and makes the call
    student_output: str | None = None  # what the student's code printed: their words, never the grader's

    def __post_init__(self):
        if self.student_output:
            self.student_output = self.student_output[-STUDENT_OUTPUT_CHARS:]

    @classmethod
    def plain(cls, text):
        """A message of the grader's own (a note, a job's verdict) as feedback: its first line, then the rest."""
        summary, *details = text.splitlines() or [""]
        return cls(summary, details=details)

    def render(self):
        lines = [self.summary]
        if self.case:
            lines.append(f"Input: {self.case}")
        lines += self.details
        if self.bug:
            lines.append(f"Diagnosis: {self.bug}")
        if self.repro:
            lines.append(f"Reproduce: {self.repro}")
        if self.student_output:
            lines += [STUDENT_OUTPUT_LABEL, *(f"    {line}" for line in self.student_output.splitlines())]
        return "\n".join(lines)

    def fields(self):
        """The fields that say something, as plain data for results.json."""
        return {k: v for k, v in asdict(self).items() if v}


def fail(summary, case=None, details=(), bug=None, repro=None):
    """End the running check with this feedback."""
    raise CheckFailed(Feedback(summary, case, list(details), bug, repro))
