"""A sample submission's expected outcome (the `expected.yaml` beside it) and whether a grade agrees with it.

`rules` names the spec rules (graders/rules.py) the sample breaks, with the points each costs under the spec.
`graders demo` and `graders batch` check every entry that carries one, so a sample class checks itself wherever
it is graded; tests/test_samples.py asserts the same agreement for every sample.
"""
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from graders.check_kinds import CheckKind
from graders.rules import deducted

FILE = "expected.yaml"
KINDS = ("reference", "correct", "bug", "unchecked")  # a sample class's; the adversarial catalogue has its own
NOT_HANDED_IN = "was not found in the submission"


class Expected(BaseModel):
    """A sample's expected.yaml; a key this model does not know (`fails:`) is an error naming the file."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["reference", "correct", "bug", "unchecked"]
    description: str = ""              # what the sample is, for whoever reads the class
    fail: dict[str, str] = {}          # check -> words its feedback must hold
    notes: dict[str, str] = {}         # passing check -> words its note must hold
    implements: tuple[str, ...] = ()   # the spec files the sample hands in; () for all
    rules: dict[str, float] = {}       # rule id -> points it costs (0: flagged only); the spec rules the sample
    #                                    breaks, and no other (rules.py)

    @classmethod
    def read(cls, folder):
        """The expectation of the sample at `folder`, or None when it has none (or one of another catalogue's)."""
        path = Path(folder) / FILE
        if not path.is_file():
            return None
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            return None
        try:
            return cls.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as e:
            first = e.errors()[0]
            raise ValueError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None

    def graded(self, spec):
        """The checks of the files this sample implements (threshold checks train models and are left out)."""
        files = self.implements or [f.name for f in spec.files]
        return [c for p in spec.parts if p.file in files for c in p.checks if not c.job]


def numbered(spec):
    """A results.json test's number -> the spec's check."""
    return {f"{p}.{c}": check for p, part in enumerate(spec.parts, 1) for c, check in enumerate(part.checks, 1)}


def outcomes(spec, results):
    """check name -> (passed, feedback) for the checks that ran, from a results.json dict; hidden checks'
    feedback from its extra_data."""
    checks = numbered(spec)
    hidden = results["extra_data"].get("hidden_feedback", {})
    return {checks[t["number"]].name: (t["status"] == "passed", hidden.get(checks[t["number"]].name, t["output"]))
            for t in results["tests"] if t["number"] in checks}


def disagreements(spec, expected, results):
    """What in `results` disagrees with `expected`, one line each; [] when the grade is the expected one."""
    if any(t["number"] == "0" for t in results["tests"]):
        return ["the grader failed"]
    got, graded, lines = outcomes(spec, results), expected.graded(spec), []
    for check in (c for p in spec.parts for c in p.checks if not c.job and c not in graded):
        passed, output = got.get(check.name, (True, ""))
        if passed or NOT_HANDED_IN not in output:
            lines.append(f"{check.name}: the sample does not hand in its file, yet: {output[:200]!r}")
    for check in graded:
        passed, output = got.get(check.name, (None, "did not run"))
        if check.name in expected.fail and passed is not False:
            lines.append(f"{check.name} should fail, got: {output[:200]!r}")
        elif check.name in expected.fail and expected.fail[check.name] not in output:
            lines.append(f"{check.name}'s feedback lacks {expected.fail[check.name]!r}: {output[:300]!r}")
        elif check.name not in expected.fail and passed is not True:
            lines.append(f"{check.name} should pass, got: {output[:300]!r}")
    for name, words in expected.notes.items():
        if words not in got.get(name, (None, ""))[1]:
            lines.append(f"{name}'s note lacks {words!r}")
    score, full = sum(c.points for c in graded if got.get(c.name, (False,))[0]), sum(c.points for c in graded)
    # a threshold check that ran and passed (smoke or full profile) counts too; pending ones score 0
    trained = sum(c.points for p in spec.parts for c in p.checks if c.job and got.get(c.name, (False,))[0])
    verdicts = results["extra_data"].get("rules") or []
    if results["score"] != max(0.0, score + trained - deducted(verdicts)):
        lines.append(f"the score {results['score']:g} is not the sum of the passed checks' points, "
                     f"{score + trained:g}, less the rules' deductions, {deducted(verdicts):g}")
    broken = {v["rule"]: v["points"] for v in verdicts if v["broken"]}
    if broken != expected.rules:
        lines.append(f"rules broken (id: points lost) {broken}, expected {expected.rules}")
    if expected.kind in ("reference", "correct") and (expected.fail or score != full):
        lines.append(f"a {expected.kind} sample must get full marks ({full:g}), got {score:g}")
    # a shortcut whose outputs are right, under a rule that only flags, is a bug the grader shows by the flag alone
    if expected.kind == "bug" and not (expected.fail and score < full or expected.rules):
        lines.append("a bug sample must name the checks it fails and lose points, or a rule it breaks")
    if expected.kind == "unchecked":  # code the grader cannot read: what it fails is "could not be checked", no verdict
        checks = numbered(spec)
        unread = {checks[t["number"]].name for t in results["tests"] if t["number"] in checks
                  and CheckKind.of(t) == CheckKind.UNCHECKED}
        if not expected.fail or unread != set(expected.fail):
            lines.append(f"an unchecked sample's failed checks {sorted(expected.fail)} must be exactly those of kind "
                         f"unchecked, {sorted(unread)}")
    return lines
