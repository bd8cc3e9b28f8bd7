"""The Hugging Face support: tiny checkpoints resolve under hub names with no network, and the training-loop
reading of jhu-cs601-hw6 names each broken step (its samples show the same end to end, in the sandbox)."""
import os
import shutil
import time
from pathlib import Path

import pytest
import torch
import yaml
from conftest import grade_cli

from graders import packs
from graders.checks.hf import steps

pytest.importorskip("transformers", reason="the hf extra is not installed")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = packs.samples("jhu-cs601-hw6")
GOOD = [["forward", True, True], ["backward", 0.7], ["step"], ["scheduler_step"], ["zero_grad"]]


def test_tiny_checkpoints_load_by_hub_name_offline(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    from graders.checks.hf import tiny_hub

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", constants.HF_HUB_OFFLINE)
    for name in (*tiny_hub.OFFLINE, "HF_HOME"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored after the test: install() sets them
    tiny_hub.install(".", ["bert-base-uncased", "distilbert/distilbert-base-uncased", "roberta-base"])
    from transformers import AutoModel, AutoTokenizer

    for name in ("bert-base-uncased", "roberta-base"):
        encodings = []
        for fast in (True, False):
            tok = AutoTokenizer.from_pretrained(name, use_fast=fast)
            encodings.append(tok("Is the river blue?", "the sea")["input_ids"])
            assert encodings[-1][0] == tok.cls_token_id and encodings[-1][-1] == tok.sep_token_id
        assert encodings[0] == encodings[1]  # the slow tokenizer reads the same vocabulary
    assert "\u0120river" in AutoTokenizer.from_pretrained("roberta-base").tokenize("the river")  # words merge whole
    model = AutoModel.from_pretrained("distilbert/distilbert-base-uncased")
    assert model.config.dim == tiny_hub.HIDDEN
    assert AutoModel.from_pretrained("roberta-base").config.hidden_size == tiny_hub.HIDDEN
    started = time.monotonic()
    with pytest.raises(OSError):
        AutoModel.from_pretrained("xlm-roberta-base")  # not installed: offline, so it fails at once
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("events,bug", [
    (GOOD * 3, None),
    ([["zero_grad"], ["forward", True, True], ["backward", 0.7], ["step"], ["scheduler_step"]] * 3, None),
    ([e for e in GOOD if e[0] != "zero_grad"] * 3, steps.NO_ZERO_GRAD),
    ([["forward", True, True], ["backward", 0.7], ["zero_grad"], ["step"], ["scheduler_step"]] * 3, steps.ZERO_BEFORE_STEP),
    ([["forward", True, True], ["step"], ["backward", 0.7], ["scheduler_step"], ["zero_grad"]] * 3, steps.NO_BACKWARD),
    ([e for e in GOOD if e[0] != "scheduler_step"] * 3, steps.NO_SCHEDULER),
    ([["forward", False, True]] + GOOD[1:] + GOOD * 2, steps.EVAL_WHILE_TRAINING),
    ([e for e in GOOD if e[0] != "step"] * 3, steps.NO_STEP),
])
def test_training_bugs_are_named(events, bug):
    got = steps.training_bug(events, 3)
    assert got == bug if bug != steps.NO_SCHEDULER else got.startswith(bug)


def test_evaluation_bugs_are_named():
    assert steps.evaluation_bug([["forward", False, False]] * 2) is None
    assert steps.evaluation_bug([["forward", True, False]]) == steps.NO_EVAL
    assert steps.evaluation_bug([["forward", False, True]]) == steps.NO_NO_GRAD


@pytest.mark.parametrize("required", [True, False])
def test_lora_costs_only_where_the_offering_asks_for_it(tmp_path, monkeypatch, required):
    """The 2024 starter has no type='lora': an offering on it (lora_required false) passes a classification.py that
    never mentions LoRA (words that merely contain the letters, like "exploration", do not count), with a note; an
    offering that asks for LoRA fails it as an interface error."""
    spec = yaml.safe_load(packs.spec_path("jhu-cs601-hw6").read_text())
    spec["options"]["lora_required"] = required
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "jhu-cs601-hw6.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setenv("GRADERS_SPECS", str(tmp_path / "specs"))
    shutil.copytree(SAMPLES / "bug-lora-missing", tmp_path / "starter")
    with open(tmp_path / "starter" / "classification.py", "a") as f:
        f.write("\n# exploration of prefix lengths\n")
    results = grade_cli(tmp_path / "starter", "jhu-cs601-hw6", tmp_path / "out")
    lora = [t for t in results["tests"] if t["tags"][1] == "lora"]
    assert len(lora) == 2
    for test in lora:
        if required:
            assert test["score"] == 0 and "never mentions LoRA or peft" in test["output"]
        else:
            assert test["score"] == test["max_score"] > 0 and "LoRA was not checked" in test["output"]
    others = [t for t in results["tests"] if t["tags"][1] in ("full", "head", "prefix")]
    assert others and all(t["score"] == t["max_score"] for t in others)


@pytest.mark.parametrize("adapters", [
    {".A": (2, 32), ".B": (32, 2)},                        # LoRA Linear subclass: W stays query.weight
    {".lora_A.weight": (2, 32), ".lora_B.weight": (32, 2), ".base.weight": None, ".base.bias": None},
])
def test_hand_written_lora_is_read_in_peft_names(adapters):
    """A hand-written LoRA's tensors map onto the names of the grader's peft model, whatever the student called
    them: the factors by shape under the adapted Linear, its W as peft's base_layer."""
    import torch

    from graders_packs.jhu_cs601_hw6 import lora

    ckpt = lora.checkpoint().state_dict()
    path = "encoder.layer.0.attention.self.query"
    state = dict(ckpt)
    for suffix, shape in adapters.items():
        state[path + suffix] = torch.zeros(shape) if shape else state.pop(path + suffix.replace(".base", ""))
    layout = lora.lora_layout(state)
    assert layout.ranks == {path: 2} and not layout.other
    assert {f"{path}.{n}" for n in ("base_layer.weight", "base_layer.bias", "lora_A.default.weight",
                                    "lora_B.default.weight")} <= set(layout.names)


def test_transposed_factors_are_read_both_ways_on_square_layers_only_one_on_others():
    """x @ A @ B with A (in, r), B (r, out): on a d x d layer the shapes fit peft's layout with A and B swapped, so
    both readings are offered (the rerun decides); on an (out != in) layer only the transposed one places them."""
    import torch

    from graders_packs.jhu_cs601_hw6 import lora

    ckpt = lora.checkpoint().state_dict()
    square = "encoder.layer.0.attention.self.query"
    wide = next(n.rsplit(".", 1)[0] for n, t in ckpt.items() if t.dim() == 2 and t.shape[0] != t.shape[1]
                and n.endswith("intermediate.dense.weight"))
    out, into = ckpt[f"{wide}.weight"].shape
    state = {**ckpt, f"{square}.A": torch.ones(32, 2), f"{square}.B": torch.ones(2, 32) * 2,
             f"{wide}.A": torch.ones(into, 3), f"{wide}.B": torch.ones(3, out) * 2}
    plain, transposed = lora.layouts(state)
    assert plain.ranks == {square: 2} and f"{wide}.A" in plain.other and not plain.transposed
    assert transposed.ranks == {square: 2, wide: 3} and not transposed.other
    a = f"{square}.lora_A.default.weight"
    assert transposed.names[a] == f"{square}.A" and torch.equal(transposed.tensor(state, a), torch.ones(2, 32))
    assert torch.equal(transposed.start(7, a, (2, 32)),
                       lora.hf_probe.adapter_start(7, f"{square}.A", (32, 2)).T)


def test_decoy_labels_never_accept_an_accuracy_the_labels_alone_give():
    """An evaluate that returns each label set's share of 0 (or of 1) never ran the model: no decoy set the checks
    use accepts it; and a model predicting one class, whose accuracy is always such a share, leaves no set."""
    from graders.checks.hf import rerun

    out = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    for labels in rerun.decoys(16, 50, out):
        assert not any(rerun.within(labels.count(c) / 16, rerun.accuracy_range(out, labels)) for c in (0, 1))
    with pytest.raises(RuntimeError, match="labels alone"):
        rerun.decoys(16, 3, torch.tensor([[1.0, 0.0]] * 16), tries=100)


def test_decoy_labels_show_a_few_changed_predictions():
    """Dropout left on in evaluation changes some predictions; the decoy sets must show that in the accuracy they
    accept. Two changed predictions out of 32 (the fewest that can cancel) are caught in at least 90% of gradings
    (a random set lets them cancel half the time, so three sets miss 1 in 8), six in all but a few."""
    from graders.checks.hf import rerun

    g = torch.Generator().manual_seed(1)
    caught = {2: 0, 6: 0}
    for _ in range(200):
        out = torch.randn(32, 2, generator=g)
        sets = rerun.decoys(32, 3, out)
        for flips in caught:
            changed = out.clone()
            changed[:flips] = changed[:flips].flip(-1)  # those predictions go the other way
            got = [rerun.accuracy_range(changed, labels)[0] for labels in sets]
            caught[flips] += any(not rerun.within(a, rerun.accuracy_range(out, labels))
                                 for a, labels in zip(got, sets, strict=True))
    assert caught[2] >= 180 and caught[6] >= 196, caught
