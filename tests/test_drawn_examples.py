"""The examples hypothesis draws for every hypothesis check, configured as the grader configures it, are those
recorded in tests/drawn_examples.json. A hypothesis release, a changed strategy or a change to how the grader
seeds can change them, and with them grades: see that tests/test_samples.py still passes, then rewrite the file
with GRADERS_UPDATE_DRAWN=1 pytest tests/test_drawn_examples.py.

The draws are those of a submission that passes every example (the grader draws more only to shrink a failure):
each check runs with its body replaced by a recorder, through hypothesis's reassignable `inner_test`."""
import hashlib
import inspect
import json
import os
from pathlib import Path

from conftest import hypothesis_checks

from graders import plugin

GOLDEN = Path(__file__).with_name("drawn_examples.json")
SHOWN = 3  # examples kept in the file as text, to say what changed; all of them are in the digest


def drawn(check):
    """Each example the grader's hypothesis settings draw for `check`, as text, in order."""
    plugin.configure(check, "graders")
    examples, inner = [], check.hypothesis.inner_test
    fixtures = {name: None for name in inspect.signature(check).parameters}

    def record(**kwargs):
        examples.append(repr(sorted((k, v) for k, v in kwargs.items() if k not in fixtures)))

    check.hypothesis.inner_test = record
    try:
        check(**fixtures)
    finally:
        check.hypothesis.inner_test = inner
    return examples


def summary(examples):
    return {"count": len(examples), "sha256": hashlib.sha256("\n".join(examples).encode()).hexdigest(),
            "first": examples[:SHOWN]}


def current():
    return {f"{a}::{name}": summary(drawn(check)) for (a, name), check in hypothesis_checks().items()}


def test_the_drawn_examples_are_those_recorded():
    found = current()
    if os.environ.get("GRADERS_UPDATE_DRAWN"):
        GOLDEN.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
    recorded = json.loads(GOLDEN.read_text())
    changed = {name: {"recorded": recorded.get(name), "now": found.get(name)}
               for name in sorted(set(recorded) | set(found)) if recorded.get(name) != found.get(name)}
    assert not changed, (f"{len(changed)} checks draw other examples than {GOLDEN.name} records (grades may change): "
                         + json.dumps(changed, indent=1)[:4000])


def test_other_draws_are_seen():
    """The comparison can fail: the first check, seeded otherwise, draws other examples (and seeded back, the same)."""
    from hypothesis import seed

    check = next(iter(hypothesis_checks().values()))
    before = summary(drawn(check))
    try:
        seed(12345)(check)
        assert summary(drawn(check))["sha256"] != before["sha256"]
    finally:
        seed(plugin.derandomized_seed(check))(check)
    assert summary(drawn(check)) == before
