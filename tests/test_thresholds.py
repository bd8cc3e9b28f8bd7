"""Threshold checks through the real command and the real runners: the CS224N birthplace job, smoke profile.

The reference passes; leaking attention, broken span corruption and skipping pretraining fail; a job cannot
report its own score; under the full profile without a GPU the check is pending with a note; a class graded
with `--runner slurm` trains on a real single-node Slurm and the outcomes are merged into each student's
results and report.
"""
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import grade_cli

from graders import packs, runners, thresholds
from graders import spec as specs

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = packs.samples("cs224n-a4-2024")
CHECK = "threshold_birthplace_vanilla"


def threshold_test(results):
    return next(t for t in results["tests"] if t["name"].endswith("pretrained then finetuned, the model names "
                                                                   "held-out birthplaces"))


def test_reference_reaches_the_threshold(tmp_path):
    results = grade_cli(SAMPLES / "reference", "cs224n-a4-2024", tmp_path)
    test = threshold_test(results)
    assert test["status"] == "passed", test["output"]
    assert "threshold" in test["output"] and "reached" in test["output"]
    curves = [f for f in results["extra_data"]["figures"] if f["kind"] == "curves"]
    assert curves and {s["label"] for s in curves[0]["series"]} == {"pretrain", "finetune"}


def test_no_pretraining_fails_the_threshold():
    spec = specs.get("cs224n-a4-2024")
    job = spec.jobs["birthplace"]
    smoke = job.profiles["smoke"].model_copy(update={"hp": {"pretrain_iters": 0}})
    spec = spec.model_copy(update={"jobs": {"birthplace": job.model_copy(update={"profiles": {"smoke": smoke}})}})
    outcomes = thresholds.evaluate({"ref": SAMPLES / "reference"}, spec, "smoke", runners.Options())["ref"].outcomes
    assert not outcomes[CHECK].passed and "not reached" in outcomes[CHECK].output, outcomes[CHECK].output


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the job would train")
def test_a_job_sent_to_a_missing_gpu_fails_with_the_reason():
    args, _ = importlib.import_module(specs.get("cs224n-a4-2024").jobs["birthplace"].driver).inputs("smoke", {})
    with pytest.raises(RuntimeError, match="the sandbox could not open the GPU: unavailable: "):
        thresholds.run_job(str(SAMPLES / "reference"), "cs224n-a4-2024", "birthplace", "smoke", args, "cuda")


@pytest.mark.parametrize("reason,kind", [
    ("the job died: LimitExceeded: the birthplace training job was stopped after 300 s of its own time", "limit"),
    ("the job ran past its 5 min limit", "limit"),
    ("the job died: MachineProblem: the sandbox did not start", "regrade"),
    ("the job died: ValueError: bad", "error")])
def test_a_job_that_did_not_finish_is_tagged_with_why(reason, kind):
    outcome = thresholds.verdict(None, runners.Outcome(False, reason=reason), None, 0.2, "smoke", [])
    assert not outcome.passed and outcome.kind == kind and reason in outcome.output


def test_full_profile_without_a_gpu_is_pending(tmp_path):
    results = grade_cli(SAMPLES / "london-bug-print-only", "cs224n-a4-2024", tmp_path, "--profile", "full")
    test = threshold_test(results)
    assert test["status"] == "failed" and test["score"] == 0 and "pending" in test["tags"]
    # the student's words: what happens next, neutral, without the staff's command (the class report has that)
    assert test["output"].startswith(thresholds.PENDING_NOTE) and "graders batch" not in test["output"]


FORGE = '''
def _forge():
    import json, sys
    for path in ("results.json", "../results.json", "/tmp/results.json"):
        try:
            with open(path, "w") as out:
                json.dump({"score": 100, "accuracy": 1.0}, out)
        except OSError:
            pass
    print("dev accuracy 100.0% (64 of 64 held-out people)")
    for job in [m for n, m in list(sys.modules.items()) if n.split(".")[0] == "threshold_job"]:  # its modules
        job.predict = lambda model, stoi, itos, questions: ["Accra"] * len(questions)
        job.score = lambda *args: 1.0
'''


@pytest.fixture(scope="module")
def slurm_class(tmp_path_factory, slurm_cluster):
    """Tier two on a real single-node Slurm: a class graded with its threshold checks pending, then trained
    as one job array (a CPU each), the outcomes merged into each student's results and report. The class:
    leaking attention, span corruption without the shift, and a forger whose dataset, while the job trains,
    writes results files, prints an accuracy and swaps the job's predictions for a constant answer (from
    the dataset's __init__: top-level code of a submission only runs where a graded definition needs it)."""
    tmp = tmp_path_factory.mktemp("slurm-class")
    for name in ("attn-bug-sdpa-everywhere", "bug-no-shift", "reference"):
        shutil.copytree(SAMPLES / name, tmp / "class" / name)
    (tmp / "class" / "reference").rename(tmp / "class" / "forger")
    dataset = tmp / "class" / "forger" / "dataset.py"
    text = dataset.read_text()
    init = next(line for line in text.splitlines() if line.strip().startswith("def __init__(self, data, block_size"))
    dataset.write_text(text.replace(init, f"{init}\n        _forge()", 1) + FORGE)
    run = subprocess.run([sys.executable, "-m", "graders", "batch", str(tmp / "class"), "--assignment",
                          "cs224n-a4-2024", "--out", str(tmp / "out"), "--runner", "slurm", "--partition", "debug",
                          "--cpus", "1", "--slurm-folder", str(tmp / "submitit")], capture_output=True, text=True,
                         timeout=900, env={**os.environ, **slurm_cluster.env})
    assert run.returncode == 0, run.stderr[-3000:]
    return tmp / "out"


def student(out, name):
    return json.loads((out / "students" / name / "results.json").read_text())


@pytest.mark.parametrize("name,why", [("attn-bug-sdpa-everywhere", "attention must not see the future"),
                                      ("bug-no-shift", "not reached")])
def test_broken_code_fails_the_threshold_on_slurm(slurm_class, name, why):
    test = threshold_test(student(slurm_class, name))
    assert test["status"] == "failed" and why in test["output"] and "slurm job" in test["output"], test["output"]


def test_a_job_cannot_report_its_own_score(slurm_class):
    """The forger's printout and results files count for nothing, and its swapped predictions stay in the training
    sandbox (predictions come from a fresh one): it gets what the reference's code earns."""
    results = student(slurm_class, "forger")
    test = threshold_test(results)
    assert test["status"] == "passed" and "dev accuracy 100" not in test["output"], test["output"]
    assert results["score"] == sum(t["score"] for t in results["tests"]) == 18 + test["score"]


def test_slurm_outcomes_are_merged_into_reports_and_journal(slurm_class):
    assert "dev accuracy" in (slurm_class / "students" / "bug-no-shift" / "report.html").read_text()
    journal = [json.loads(line) for line in (slurm_class / "journal.jsonl").read_text().splitlines()]
    assert sorted(e["student"] for e in journal if "thresholds" in e) == ["attn-bug-sdpa-everywhere", "bug-no-shift",
                                                                           "forger"]
    assert not any("pending" in t["tags"] for name in ("forger", "bug-no-shift")
                   for t in student(slurm_class, name)["tests"])
