"""The hw5 GPT perplexity threshold (jhu-cs601-hw5, smoke profile) through the real command and the local runner:
the reference passes; a leaking attention and an untrained model fail; the grader, not the job, computes the
perplexity; under the full profile without a GPU the check is pending. Also the intake of gpt/model.py."""
import math
from pathlib import Path

import pytest
import torch
from conftest import grade_cli

from graders import packs, runners, thresholds
from graders import spec as specs
from graders.checks import lm
from graders.jobs import Driver
from graders.submission import collect
from graders_packs.jhu_cs601_hw5 import lm as driver

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = packs.samples("jhu-cs601-hw5")
CHECK = "threshold_gpt_perplexity"


def grade(submission, out, *extra):
    results = grade_cli(submission, "jhu-cs601-hw5", out, *extra, timeout=600)
    return results, next(t for t in results["tests"] if t["name"].endswith("reaches the held-out perplexity"))


def test_reference_reaches_the_threshold(tmp_path):
    results, test = grade(SAMPLES / "reference", tmp_path)
    assert test["status"] == "passed" and test["score"] == 2, test["output"]
    assert "better than the unigram model's" in test["output"] and ": reached" in test["output"]
    curves = [f for f in results["extra_data"]["figures"] if f["kind"] == "curves"]
    assert curves and curves[0]["series"][0]["label"] == "train"


def smoke(**hp):
    """The spec with the smoke profile's hyper-parameters overridden."""
    spec = specs.get("jhu-cs601-hw5")
    job = spec.jobs["gpt_lm"]
    profile = job.profiles["smoke"].model_copy(update={"hp": hp})
    return spec.model_copy(update={"jobs": {"gpt_lm": job.model_copy(update={"profiles": {"smoke": profile}})}})


def test_leaking_attention_fails_the_threshold():
    """Trained fully, bug-mask-not-applied reaches the perplexity (the last position has no future to leak;
    benchmarks/README.md) and fails on the causality probe alone; a short run keeps this test fast."""
    outcome = thresholds.evaluate({"s": SAMPLES / "bug-mask-not-applied"}, smoke(iters=60), "smoke",
                                  runners.Options())["s"][0]
    assert not outcome[CHECK].passed and "attention must not see the future" in outcome[CHECK].output, outcome[CHECK]
    assert "attention sees the future" in outcome[CHECK].output.splitlines()[0]  # the reason leads


def test_untrained_model_fails_the_threshold():
    outcome = thresholds.evaluate({"s": SAMPLES / "reference"}, smoke(iters=0), "smoke", runners.Options())["s"][0]
    assert not outcome[CHECK].passed and "not reached" in outcome[CHECK].output.splitlines()[0], outcome[CHECK].output


def test_the_grader_computes_the_perplexity():
    """Whatever logits a job returns, the score is the perplexity they earn on answers the job never saw;
    logits that are not finite numbers, one per token, cannot be scored."""
    args, kept = driver.inputs("smoke", {})
    V, answers, probes = kept["vocab_size"], kept["answers"], args["evaluate"]["probes"]
    assert all(len(c) == lm.SMOKE["context_length"] for c in args["evaluate"]["contexts"])
    assert "answers" not in args["evaluate"] and "contexts" not in args["train"]
    halves = [torch.zeros(len(probes) // 2, len(probes[0]), V)] * 2
    flat = {"logits": [[1e6] * V for _ in answers], "probe_logits": {"eval": halves, "train": halves}}
    ratio, lines, bug, _ = driver.score(flat, kept)
    assert math.isclose(ratio, kept["unigram"] / V) and ratio < 1 and bug is None
    for bad in ([[float("nan")] * V for _ in answers], [[0.0] * (V - 1) for _ in answers], "1.0"):
        with pytest.raises(ValueError):
            driver.score({**flat, "logits": bad}, kept)


def test_weights_that_do_not_fit_the_architecture_are_refused():
    """Between training and prediction the grader checks the state dict: the job's own weights in their shapes, the
    student's attention within its room (a lookup table in an extra buffer does not fit), no other key."""
    args, _ = driver.inputs("smoke", {})
    job = thresholds.job_code(Driver.load(driver.__name__))
    hp, d = {**job.LM_SMOKE, **args["hp"]}, job.LM_SMOKE["n_embd"]
    own, room = job.architecture(**args["train"], hp=args["hp"])
    weights = {k: torch.zeros(shape) for k, shape in own.items()}
    for i in range(hp["n_layer"]):
        weights |= {f"blocks.{i}.attn.c_attn.weight": torch.zeros(3 * d, d), f"blocks.{i}.attn.c_proj.weight":
                    torch.zeros(d, d), f"blocks.{i}.attn.causal_mask": torch.ones(1, 1, 32, 32)}

    def why(changed):
        return thresholds.refusal({"weights": changed, "model": {}}, job, {**args["train"], "hp": args["hp"]})

    assert why(weights) is None
    assert "more than" in why({**weights, "blocks.1.attn.table": torch.zeros(max(room.values()))})
    assert "not part of the model" in why({**weights, "answers": torch.zeros(1)})
    assert "should have shape" in why({**weights, "head.weight": torch.zeros(2, d)})
    assert "should have shape" in why({k: v for k, v in weights.items() if k != "tok_emb.weight"})
    assert "no state dict" in why({**weights, "blocks.0.attn.note": "hello"})


def test_full_profile_without_a_gpu_is_pending(tmp_path):
    _, test = grade(SAMPLES / "bug-returns-tuple", tmp_path, "--profile", "full")
    assert test["status"] == "failed" and test["score"] == 0 and test["output"].startswith(thresholds.PENDING_NOTE)


def test_a_path_in_the_spec_prefers_that_folder(tmp_path):
    """gpt/model.py is graded from gpt/, not from another model.py of the submission."""
    (tmp_path / "gpt").mkdir()
    (tmp_path / "gpt" / "model.py").write_text("x = 1\n")
    (tmp_path / "model.py").write_text("x = 2\n")
    found = collect(tmp_path, ["gpt/model.py"], tmp_path).files["gpt/model.py"]
    assert found.path == tmp_path / "gpt" / "model.py" and found.cells[0].text == "x = 1\n"
