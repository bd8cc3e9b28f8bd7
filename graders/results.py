"""The result of grading one submission, and its writers: Gradescope's results.json and a terminal summary."""
import json
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from graders.check_kinds import CheckKind
from graders.checks.feedback import Feedback
from graders.rules import deducted

HIDDEN_MESSAGE = {True: "Hidden check: passed.",
                  False: "Hidden check: failed. Details appear after grades are published."}


@dataclass
class Result:
    spec: object
    outcomes: dict                     # check name -> plugin.Outcome
    notices: list[str] = field(default_factory=list)
    execution_time: float = 0.0                # grading: intake, sandbox, checks
    training_time: float = 0.0                 # threshold jobs, apart (reports show both)
    error: str | None = None           # set when the grader itself failed
    sandbox: dict | None = None        # the protections the sandbox child ran with
    figures: list = field(default_factory=list)  # plain-data figures for the HTML report (see report/)
    rules: list = field(default_factory=list)    # handout rules' verdicts, plain data (graders/rules.py)

    @property
    def score(self):
        passed = sum(c.points for _, c in self.checks() if self.outcomes.get(c.name) and self.outcomes[c.name].passed)
        return max(0.0, passed - deducted(self.rules))

    @property
    def to_regrade(self):
        """Checks the machine, not the student's code, kept from finishing."""
        return [name for name, o in self.outcomes.items() if o.kind == CheckKind.REGRADE]

    def checks(self):
        for part in self.spec.parts:
            for check in part.checks:
                yield part, check


def environment():
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "device": "cpu",
            "dtypes": ["float32", "float64"], "threads": 1}


def gradescope(result):
    """Gradescope's results.json: hidden checks carry a neutral message; their details go to extra_data.

    Each check's feedback goes to extra_data as fields too (graders.checks.feedback.Feedback: `feedback` by
    number for visible checks, `hidden_fields` by name beside `hidden_feedback`), which the reports read
    instead of parsing `output`."""
    tests, hidden, diagnoses, feedback, hidden_fields = [], {}, {}, {}, {}
    for p_index, part in enumerate(result.spec.parts, start=1):
        for c_index, check in enumerate(part.checks, start=1):
            outcome = result.outcomes.get(check.name)
            if outcome is None:
                continue
            output, number = outcome.output, f"{p_index}.{c_index}"
            fields = (outcome.feedback or Feedback.plain(output)).fields()
            if outcome.bug:
                diagnoses[number] = outcome.bug
            if check.visibility.value != "visible":
                hidden[check.name] = output
                hidden_fields[check.name] = fields
                if outcome.kind != CheckKind.PENDING:  # "not graded yet" tells nothing about the code
                    output = HIDDEN_MESSAGE[outcome.passed]
            elif fields:
                feedback[number] = fields
            tags = [part.file, part.id] + ([outcome.kind] if outcome.kind else []) + \
                   ([f"bug: {outcome.bug}"] if outcome.bug and check.visibility.value == "visible" else [])
            tests.append({
                "name": f"{part.title}: {check.title}", "number": number,
                "score": check.points if outcome.passed else 0.0, "max_score": check.points,
                "status": "passed" if outcome.passed else "failed", "output": output,
                "output_format": "text", "visibility": check.visibility.value, "tags": tags})
    if result.error:
        tests.append({"name": "Grader", "number": "0", "score": 0.0, "max_score": 0.0, "status": "failed",
                      "output": result.error, "output_format": "text", "visibility": "visible",
                      "tags": [CheckKind.GRADER]})
    return {"score": result.score, "execution_time": round(result.execution_time, 3),
            "output": "\n".join(result.notices), "output_format": "text", "visibility": "visible",
            "extra_data": {"assignment": result.spec.id, "title": result.spec.title, "max_score": result.spec.max_score,
                           "environment": environment(), "sandbox": result.sandbox, "hidden_feedback": hidden,
                           "hidden_fields": hidden_fields, "diagnoses": diagnoses, "feedback": feedback,
                           "figures": result.figures, "rules": result.rules,
                           "training_time": round(result.training_time, 3)},
            "tests": tests}


def merge(data, spec, outcomes, figures=(), seconds=0.0):
    """results.json `data` with the outcomes of checks that ran later (threshold jobs, which trained for `seconds`)
    in place of theirs."""
    fresh = gradescope(Result(spec, outcomes))
    by_number = {t["number"]: t for t in fresh["tests"]}
    data["tests"] = [by_number.get(t["number"], t) for t in data["tests"]]
    extra = data["extra_data"]
    for key, merged in (("hidden_feedback", outcomes), ("hidden_fields", outcomes), ("diagnoses", by_number),
                        ("feedback", by_number)):
        # what the merged checks said before (a pending note, an earlier diagnosis) goes with their old outcome
        kept = {k: v for k, v in extra.get(key, {}).items() if k not in merged}
        extra[key] = kept | fresh["extra_data"][key]
    extra["figures"] = [*extra.get("figures", []), *figures]
    extra["training_time"] = round(seconds, 3)
    data["score"] = max(0.0, sum(t["score"] for t in data["tests"]) - deducted(extra.get("rules") or []))
    return data


def write_json(path, data):
    """Write atomically: a reader sees the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def summary(result, color=False):
    """A short terminal summary: one line per check, feedback under each failure."""
    lines = [f"{result.spec.title}", *(f"  note: {n}" for n in result.notices)]
    for part, check in result.checks():
        outcome = result.outcomes.get(check.name)
        if outcome is None:
            continue
        if outcome.kind == CheckKind.PENDING:
            head = f"PENDING -/{check.points:g}"
        else:
            head = f"{'PASS' if outcome.passed else 'FAIL'} {check.points if outcome.passed else 0:g}/{check.points:g}"
        lines.append(f"{head}  {part.id}: {check.title}")
        lines += [f"      {line}" for line in outcome.output.splitlines()]  # feedback, or a passing check's note
    if result.error:
        lines.append(f"GRADER ERROR: {result.error}")
    if result.to_regrade:
        lines.append(f"REGRADE: the machine was too busy for {len(result.to_regrade)} check(s); grade again")
    total = sum(c.points for _, c in result.checks() if c.name in result.outcomes)
    pending = sum(c.points for _, c in result.checks() if c.name in result.outcomes
                  and result.outcomes[c.name].kind == CheckKind.PENDING)
    lines.append(f"Score: {result.score:g}/{total:g}" + (f" ({pending:g} points pending)" if pending else ""))
    return "\n".join(lines)
