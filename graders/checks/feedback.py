"""Feedback for a failing check: what broke, on which smallest input, where, and how to reproduce it."""
from dataclasses import dataclass, field

from graders.problems import CheckFailed


@dataclass
class Feedback:
    summary: str
    case: str | None = None           # the (smallest) failing input: shapes, dtype, seed
    details: list[str] = field(default_factory=list)
    bug: str | None = None            # the known bug whose output the student's matches
    repro: str | None = None          # one line of Python that rebuilds the input and makes the call

    def render(self):
        lines = [self.summary]
        if self.case:
            lines.append(f"Input: {self.case}")
        lines += self.details
        if self.bug:
            lines.append(f"Diagnosis: {self.bug}")
        if self.repro:
            lines.append(f"Reproduce: {self.repro}")
        return "\n".join(lines)


def fail(summary, case=None, details=(), bug=None, repro=None):
    """End the running check with this feedback."""
    raise CheckFailed(Feedback(summary, case, list(details), bug, repro))
