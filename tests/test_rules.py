"""Handout rules (graders/rules.py): library shortcuts found in the graded source through imports, aliases and
subclasses, and in what the sandbox saw run; named in feedback; costing what the spec says (flag, deduct, zero)."""
import json
import shutil
import subprocess
import sys

import pytest
import torch  # noqa: F401 - names resolve by identity among the modules imported, as in a grade
import yaml

from graders import expected, packs, rules
from graders import spec as specs
from graders.extract import extract
from graders.submission import Cell

SDPA = "torch.nn.functional.scaled_dot_product_attention"
RULE = specs.Rule(id="own", file="A2S2.py", forbid=[SDPA, "torch.nn.MultiheadAttention", "torch.nn.Transformer*"],
                  source="a test's")
FUNCTIONS = ["self_attention"]


def uses(source, rule=RULE, wanted=FUNCTIONS):
    extraction = extract([Cell(source, "A2S2.py")], wanted)
    return [(u.api, u.line, u.names, u.how) for u in rules.static_uses(rule, extraction)]


@pytest.mark.parametrize("source,found", [
    ("import torch.nn.functional as F\ndef self_attention(q):\n    return F.scaled_dot_product_attention(q, q, q)\n",
     [(SDPA, 3, ("self_attention",), "use")]),
    ("import torch\ndef self_attention(q):\n    return torch.nn.functional.scaled_dot_product_attention(q, q, q)\n",
     [(SDPA, 3, ("self_attention",), "use")]),
    ("from torch.nn import functional\nsdpa = functional.scaled_dot_product_attention\n"
     "def self_attention(q):\n    return sdpa(q, q, q)\n", [(SDPA, 4, ("self_attention",), "use")]),
    ("import torch.nn.functional as F\ndef self_attention(q):\n    f = getattr(F, 'scaled_dot_product_attention')\n"
     "    return f(q, q, q)\n", [(SDPA, 4, ("self_attention",), "use")]),
    ("from torch._C._nn import scaled_dot_product_attention as s\ndef self_attention(q):\n    return s(q, q, q)\n",
     [(SDPA, 3, ("self_attention",), "use")]),  # the same object under another module: matched by identity
    ("from torch import nn\nclass A(nn.MultiheadAttention):\n    pass\ndef self_attention(q):\n    return A(4, 1)\n",
     [("torch.nn.MultiheadAttention", 2, ("A",), "subclass")]),
    ("from torch.nn.modules.transformer import TransformerEncoderLayer as L\ndef self_attention(q):\n    return L\n",
     [("torch.nn.TransformerEncoderLayer", 3, ("self_attention",), "use")]),
    ("import torch.nn.functional as F\ndef attend(q):\n    return F.scaled_dot_product_attention(q, q, q)\n"
     "def self_attention(q):\n    return attend(q)\n", [(SDPA, 3, ("attend",), "use")]),
])
def test_a_forbidden_api_is_found_however_it_is_named(source, found):
    assert uses(source) == found


@pytest.mark.parametrize("source", [
    # the module imported for an allowed function; the API in a comment, a docstring and a string
    "import torch.nn.functional as F\nNOTE = 'F.scaled_dot_product_attention'\ndef self_attention(q):\n"
    "    '''not F.scaled_dot_product_attention'''\n    # F.scaled_dot_product_attention(q, q, q)\n"
    "    return F.softmax(q @ q.mT, -1) @ q\n",
    # a function no graded function reads, and a top-level experiment: not graded code
    "import torch.nn.functional as F\ndef self_attention(q):\n    return q\ndef compare(q):\n"
    "    return F.scaled_dot_product_attention(q, q, q)\nprint(F.scaled_dot_product_attention)\n",
])
def test_honest_code_breaks_no_rule(source):
    assert uses(source) == []


def test_an_allowed_api_and_code_outside_the_rules_scope_are_not_uses():
    hw5 = specs.get("jhu-cs601-hw5").rules[0]
    source = ("import torch.nn.functional as F\nfrom torch import nn\nclass CausalSelfAttention(nn.Module):\n"
              "    def forward(self, q):\n        return F.scaled_dot_product_attention(q, q, q, is_causal=True)\n"
              "class Other(nn.MultiheadAttention):\n    pass\n")
    assert uses(source, hw5, ["CausalSelfAttention", "Other"]) == []
    assert uses(source.replace("class CausalSelfAttention(nn.Module)", "class CausalSelfAttention(nn.MultiheadAttention)"),
                hw5, ["CausalSelfAttention", "Other"]) == [("torch.nn.MultiheadAttention", 3, ("CausalSelfAttention",),
                                                            "subclass")]


def test_every_assignment_but_hw6s_has_a_rule_with_its_source():
    for assignment in specs.available().values():
        assert bool(assignment.rules) != assignment.id.startswith("jhu-cs601-hw6"), assignment.id  # and its offerings
        for rule in assignment.rules:
            assert rule.source and all(rules.Forbidden(rule).names or "*" in p for p in rule.forbid)


@pytest.mark.parametrize("cost,message", [
    ("free", "field rules.0.cost"),
    ({"deduct": -1}, "field rules.0.cost"),
])
def test_a_rule_is_typed(tmp_path, cost, message):
    data = yaml.safe_load(packs.spec_path("uw-cse447-a2").read_text())
    data["rules"][0]["cost"] = cost
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(specs.SpecError, match=message):
        specs.load(tmp_path / "bad.yaml")
    data["rules"][0] |= {"cost": "flag", "file": "A2S9.py"}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(specs.SpecError, match="rules.0.file: 'A2S9.py' is not one of files"):
        specs.load(tmp_path / "bad.yaml")


# The A2S2 rule samples graded once under an offering with the same rule three times, one per cost: each verdict
# below is (flag, deduct 3, zero) in points lost; None where the rule is not broken.
COSTS = {"flag": "flag", "deduct": {"deduct": 3}, "zero": "zero"}
VERDICTS = {
    "bug-rule-sdpa-direct": (0, 3, 5), "bug-rule-sdpa-alias": (0, 3, 5), "bug-rule-sdpa-getattr": (0, 3, 5),
    "bug-rule-sdpa-helper": (0, 3, 5), "bug-rule-mha-subclass": (0, 3, 5),
    "correct-rule-mentions-only": None, "correct-rule-sdpa-experiment": None,
}


def under_costs(root, assignment, samples, without_files=()):
    """(spec, sample -> results.json, out) of `samples` graded in one batch under an offering of `assignment` whose
    one rule is there three times, once per cost (COSTS)."""
    specs_dir, folder = root / "specs", root / "class"
    specs_dir.mkdir()
    for path in specs.files(assignment):
        shutil.copy(path, specs_dir)
    [base] = [r.model_dump() for r in specs.get(assignment).rules]
    variant = {"extends": assignment, "id": "costs", "title": "under three costs", "handout": "a test's",
               "without_files": list(without_files), "without_rules": [base["id"]],
               "rules": [base | {"id": name, "cost": cost} for name, cost in COSTS.items()]}
    (specs_dir / "costs.yaml").write_text(yaml.safe_dump(variant, allow_unicode=True))
    for name in samples:
        shutil.copytree(packs.samples(assignment) / name, folder / name, ignore=shutil.ignore_patterns(expected.FILE))
    env = {**__import__("os").environ, "GRADERS_SPECS": str(specs_dir)}
    run = subprocess.run([sys.executable, "-m", "graders", "batch", str(folder), "--assignment", "costs", "--out",
                          str(root / "out"), "--profile", "full"], capture_output=True, text=True, env=env, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    return specs.load(specs_dir / "costs.yaml"), {
        name: json.loads((root / "out" / "students" / name / "results.json").read_text()) for name in samples}, root / "out"


@pytest.fixture(scope="module")
def three_costs(tmp_path_factory):
    """The A2 rule samples graded under the three costs at once."""
    return under_costs(tmp_path_factory.mktemp("rules"), "uw-cse447-a2", VERDICTS, ["A2S1.py", "answers.yaml", "A2S3.py"])


@pytest.mark.parametrize("sample", VERDICTS)
def test_each_sample_costs_what_each_rule_says(three_costs, sample):
    spec, graded, _ = three_costs
    results = graded[sample]
    got = {v["rule"]: v["points"] for v in results["extra_data"]["rules"] if v["broken"]}
    if VERDICTS[sample] is None:
        assert got == {} and results["score"] == 20
        return
    assert got == dict(zip(COSTS, VERDICTS[sample], strict=True))
    assert results["score"] == 20 - 5 - 3  # zero took self_attention's 5 points, deduct 3 more
    outcome = expected.outcomes(spec, results)
    for check in ("test_self_attention_single_head", "test_self_attention_multi_head"):
        passed, output = outcome[check]
        assert not passed and "Handout rule zero" in output and "Handout rule deduct" in output
        assert "Handout rule flag" not in output  # a flag is for staff: not in the student's feedback
    assert outcome["test_pairwise_similarities"][0]  # checks that never ran the shortcut keep their points
    assert any("Handout rule deduct broken" in line and "3 points lost" in line for line in results["output"].split("\n"))


def test_staff_see_where_source_and_run_disagree(three_costs):
    _, graded, out = three_costs
    suspicions = {name: [s for v in r["extra_data"]["rules"] for s in v["suspicions"]] for name, r in graded.items()}
    assert suspicions["bug-rule-sdpa-getattr"] and all("graded source it ran does not name" in s
                                                       for s in suspicions["bug-rule-sdpa-getattr"])
    assert all(not found for name, found in suspicions.items() if name != "bug-rule-sdpa-getattr")
    page = (out / "index.html").read_text()
    assert 'id="rules"' in page and 'href="students/bug-rule-sdpa-helper/report.html"' in page
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert {"zero": 5, "deduct": 3, "flag": 0} in [e.get("rules") for e in journal]


# Other assignments' rule samples under the two costs their spec does not give (hw5 flags, PA2 zeroes), each verdict
# again (flag, deduct 3, zero). A use the source shows zeroes every check whose calls ran the code that holds it; one
# only the run shows, the checks whose run reached the API.
OTHERS = {
    "jhu-cs601-hw5": {"bug-rule-mha-subclass": (0, 3, 10), "bug-rule-mha-getattr": (0, 3, 8),
                      "correct-rule-experiment": None},
    "ucsd-cse256-pa2": {"bug-rule-sdpa-direct": (0, 3, 13), "bug-rule-sdpa-getattr": (0, 3, 13),
                        "correct-rule-experiment": None},
}


@pytest.fixture(scope="module")
def other_costs(request, tmp_path_factory):
    """An assignment's rule samples graded under the three costs at once (one batch per assignment)."""
    return request.param, under_costs(tmp_path_factory.mktemp(request.param), request.param, OTHERS[request.param])


@pytest.mark.parametrize("other_costs,sample", [(a, s) for a, samples in OTHERS.items() for s in samples],
                         indirect=["other_costs"])
def test_other_assignments_samples_cost_what_each_rule_says(other_costs, sample):
    assignment, (spec, graded, _) = other_costs
    results = graded[sample]
    got = {v["rule"]: v["points"] for v in results["extra_data"]["rules"] if v["broken"]}
    full = sum(c.points for p in spec.parts for c in p.checks if not c.job)
    if OTHERS[assignment][sample] is None:
        assert got == {} and results["score"] == full
        return
    assert got == dict(zip(COSTS, OTHERS[assignment][sample], strict=True))
    assert results["score"] == max(0.0, full - OTHERS[assignment][sample][2] - 3)  # a score never goes below 0
    zeroed = [out for passed, out in expected.outcomes(spec, results).values() if not passed and "Handout rule" in out]
    assert zeroed and all("Handout rule zero" in out and "Handout rule flag" not in out for out in zeroed)


def test_a_run_that_reached_an_api_the_source_hides_breaks_the_rule_and_a_lost_record_is_flagged():
    """The verdict from plain data: the sandbox's record adds a use; a check whose record is missing is told to
    staff and costs nothing by itself."""
    from graders.plugin import Outcome

    spec = specs.get("uw-cse447-a2")
    source = (packs.samples("uw-cse447-a2") / "reference" / "A2S2.py").read_text()
    extraction = extract([Cell(source, "A2S2.py")], spec.source("A2S2.py").functions)

    class Session:
        reached = {"test_self_attention_multi_head": {SDPA}}
        unrecorded = {"test_self_attention_single_head"}

    class Submission:
        intake = type("I", (), {"files": {"A2S2.py": type("F", (), {"path": "A2S2.py"})}})
        extractions = {"A2S2.py": extraction}
        used = {c: {"A2S2.py": {"self_attention"}} for c in ("test_self_attention_multi_head",
                                                           "test_self_attention_single_head")}

        def session_of(self, file):
            return Session

    outcomes = {c.name: Outcome(True) for p in spec.parts for c in p.checks if p.file == "A2S2.py"}
    [verdict] = rules.judge(spec.only(set(outcomes)), Submission(), outcomes)
    assert verdict["broken"] and verdict["points"] == 2 and not outcomes["test_self_attention_multi_head"].passed
    assert outcomes["test_self_attention_single_head"].passed
    assert any("record of what ran is missing" in s for s in verdict["suspicions"])


def test_a_use_the_run_cannot_see_is_no_sign_of_tampering():
    """A run that reached nothing is suspicious where the source uses an API the sandbox watches (torch's attention),
    not where it uses a plain Python function of another library (transformers' RoPE), which no run shows."""
    import transformers.models.llama.modeling_llama  # noqa: F401 - imported, as a submission's load imports it

    from graders.plugin import Outcome

    assert rules.run_sees(SDPA) and rules.run_sees("torch.nn.MultiheadAttention")
    assert not rules.run_sees("transformers.models.llama.modeling_llama.apply_rotary_pos_emb")
    for assignment, sample, file, suspicious in [
            ("uw-cse447-a2", "bug-rule-sdpa-direct", "A2S2.py", True),
            ("cs224n-a4-2024", "attn-bug-rule-hf-rope-direct", "attention.py", False)]:
        spec = specs.get(assignment)
        source = spec.source(file)
        extraction = extract([Cell((packs.samples(assignment) / sample / file).read_text(), file)],
                             source.functions + source.classes)
        checks = [c.name for p in spec.parts if p.file == file for c in p.checks]

        class Session:
            reached, unrecorded = dict.fromkeys(checks, set()), set()

        class Submission:
            intake = type("I", (), {"files": {file: type("F", (), {"path": file})}})
            extractions = {file: extraction}
            used = {c: {file: set(extraction.reads)} for c in checks}

            def session_of(self, _):
                return Session

        outcomes = {c: Outcome(True) for c in checks}
        [verdict] = rules.judge(spec.only(set(outcomes)), Submission(), outcomes)
        assert verdict["broken"] and bool(verdict["suspicions"]) == suspicious, (sample, verdict["suspicions"])


def test_a_child_that_loads_twice_keeps_one_module_hook():
    """`Watch` is one per child: a second load (the same worker asked again) re-points it and registers no second
    global forward pre-hook, and what a watched module runs is still recorded."""
    from dataclasses import asdict

    from graders.sandbox.session import Session
    from graders.sandbox.worker import Limits

    code = ("import torch\ndef hooks():\n    return len(torch.nn.modules.module._global_forward_pre_hooks)\n"
            "def attend(x):\n    return torch.nn.MultiheadAttention(4, 1, batch_first=True)(x, x, x)[0]\n")
    e = extract([Cell(code, "A2S2.py")], ["hooks", "attend"])
    modules = [{"name": "A2S2", "file": "A2S2.py", "statements": [asdict(s) for s in e.statements]}]
    session = Session(modules, e.texts, Limits(call_seconds=20), watch=["torch.nn.MultiheadAttention"]).start()
    try:
        counts = []
        for check in ("first", "second"):
            session.loaded_in = None  # the next call loads the code again, into the same child
            session.begin_check(check, watching=True)
            counts.append(session.call("A2S2", "hooks"))
            session.call("A2S2", "attend", [torch.ones(1, 2, 4)])
        assert session.worker is not None and counts == [1, 1]
        assert session.reached == {"first": {"torch.nn.MultiheadAttention"}, "second": {"torch.nn.MultiheadAttention"}}
    finally:
        session.end()


def test_a_check_that_reuses_a_memoized_reading_is_charged_for_what_it_ran():
    """PA2's orientation check reuses the first-layer reading the scale check computed (Submission.memo). The
    forbidden API that computing it reached counts for every check that uses it, so grading the orientation check
    alone (as a student kit or a regrade of one check does) gives the verdict the whole grade gives."""
    from graders.grade import grade

    spec = specs.get("ucsd-cse256-pa2")
    sample = packs.samples(spec.id) / "bug-rule-sdpa-getattr"
    alone = grade(sample, spec.only(["test_encoder_scores_orientation"]), visibility="public")
    whole = grade(sample, spec, visibility="public")
    for result in (alone, whole):
        outcome = result.outcomes["test_encoder_scores_orientation"]
        assert not outcome.passed and "reached torch.nn.functional.scaled_dot_product_attention" in outcome.output
