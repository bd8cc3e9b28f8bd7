"""UCSD CSE 256 PA2's scale check when the names say nothing (graders_packs/ucsd_cse256_pa2/attention.py): the
query and key tensors found by behaviour in the grader's process, a wrong scale named, and "could not be checked"
where nothing explains the maps; and part 3's ALiBi check, which costs a submission without ALiBi nothing only
where the spec's option says so."""
import math
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from conftest import grade_cli

from graders import packs
from graders_packs.ucsd_cse256_pa2 import attention
from graders_packs.ucsd_cse256_pa2.reference import attention_probs

ROOT = Path(__file__).resolve().parents[1]
E, H, B, T = 64, 2, 2, 32
HD = E // H


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the grader runs (graders/batch.py): its small float64 products only wait on more."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def state(seed):
    """A two-layer model's tensors under names no reading knows: fused (value, query, key) rows with a bias, an
    output projection, a feed-forward layer, per-layer; and a token embedding."""
    g = torch.Generator().manual_seed(seed)
    out = {"lookup.weight": torch.randn(97, E, generator=g)}
    for layer in range(2):
        out |= {f"body.{layer}.mix.weight": torch.randn(3 * E, E, generator=g) / 8,
                f"body.{layer}.mix.bias": torch.randn(3 * E, generator=g) / 8,
                f"body.{layer}.o.weight": torch.randn(E, E, generator=g) / 8,
                f"body.{layer}.up.weight": torch.randn(4 * E, E, generator=g) / 8}
    return out


def inputs():
    """The first layer's possible inputs, as expect_scale gives them, for seeded token ids."""
    ids = torch.randint(1, 97, (B, T), generator=torch.Generator().manual_seed(5))
    return attention.inputs(attention.normalized_rows(97, E, 3).double()[ids], learned_positions=True)


def maps(st, x, divisor, causal, mean=False):
    """The first layer's maps softmax(q k^T / divisor) with q and k from rows E:2E and 2E:3E of body.0.mix."""
    w, b = st["body.0.mix.weight"].double(), st["body.0.mix.bias"].double()
    q, k = ((x @ w[i:i + E].T + b[i:i + E]).view(B, T, H, HD).transpose(1, 2) for i in (E, 2 * E))
    p = attention_probs(q * math.sqrt(HD) / divisor, k, causal).float().double()
    return p.mean(1, keepdim=True) if mean else p


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("mean", [False, True], ids=["per head", "heads' mean"])
@pytest.mark.parametrize("divisor,verdict", [(math.sqrt(HD), "correct"),
                                             (HD, "scores divided by 32 = head_dim instead of sqrt(head_dim)"),
                                             (math.sqrt(E), "scores scaled by 1/sqrt(n_embd) instead of")])
def test_the_query_and_key_rows_are_found_by_behaviour(causal, mean, divisor, verdict):
    st = state(0)
    xs = inputs()
    got, where = attention.by_behaviour(maps(st, xs[1], divisor, causal, mean), xs, st, {"lookup.weight"}, causal)
    assert got.startswith(verdict)
    assert where == "q from body.0.mix.weight rows 64:128, k from body.0.mix.weight rows 128:192"


@pytest.mark.parametrize("bug", ["softmax over the query axis", "mask after the softmax", "mask off by one"])
def test_a_wrong_mask_or_softmax_axis_does_not_hide_the_scale(bug):
    """Other checks judge the mask and the axis; the scale is read from what is left of the maps' logs once row and
    column effects are removed."""
    st = state(0)
    xs = inputs()
    w = st["body.0.mix.weight"].double()
    q, k = ((xs[0] @ w[i:i + E].T + st["body.0.mix.bias"][i:i + E]).view(B, T, H, HD).transpose(1, 2)
            for i in (E, 2 * E))
    scores, future = q @ k.transpose(-2, -1) / HD, torch.ones(T, T, dtype=torch.bool).triu(1)
    got = {"softmax over the query axis": scores.masked_fill(future, -math.inf).softmax(-2),
           "mask after the softmax": scores.softmax(-1).masked_fill(future, 0),
           "mask off by one": scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(2), -math.inf).softmax(-1)}
    verdict, _ = attention.by_behaviour(got[bug].float().double(), xs, st, {"lookup.weight"}, True)
    assert verdict == "scores divided by 32 = head_dim instead of sqrt(head_dim) = 5.657"


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("divisor,verdict", [(math.sqrt(HD), "correct"),
                                             (math.sqrt(E), "scores scaled by 1/sqrt(n_embd) instead of")])
def test_k_q_transposed_is_read_apart_from_the_scale(causal, divisor, verdict):
    """Named query and key weights are read either way round: softmax(k q^T / s) reads as transposed (the index of
    a swapped reading), with its scale judged on its own, so each check fails on its own fault."""
    st, xs = state(0), inputs()
    w, b = st["body.0.mix.weight"].double(), st["body.0.mix.bias"].double()
    named = [tuple(attention.heads([(w[i:i + E], b[i:i + E])], E, H, HD, False) for i in (E, 2 * E))]
    q, k = ((xs[1] @ w[i:i + E].T + b[i:i + E]).view(B, T, H, HD).transpose(1, 2) for i in (E, 2 * E))
    got = attention_probs(k * math.sqrt(HD) / divisor, q, causal).float().double()
    found, index = attention.read(got, xs, attention.oriented(named), causal)
    assert found.startswith(verdict) and index == len(named)  # the swapped reading
    right = attention_probs(q * math.sqrt(HD) / divisor, k, causal).float().double()
    assert attention.read(right, xs, attention.oriented(named), causal)[1] == 0


def test_maps_nothing_explains_are_not_read():
    """Maps of no projection of the model (here: of another model's weights) give no verdict, so the check says it
    could not be checked instead of awarding the points."""
    xs = inputs()
    assert len(attention.groups(state(0), {"lookup.weight"}, E, H)) == 2 * (3 + 2)  # a layer: mix's thirds, o twice
    assert attention.by_behaviour(maps(state(1), xs[0], math.sqrt(HD), False), xs, state(0), {"lookup.weight"},
                                  False) == (None, None)


@pytest.mark.parametrize("required", [True, False])
def test_no_alibi_model_costs_nothing_only_where_the_spec_says_so(tmp_path, monkeypatch, required):
    spec = yaml.safe_load((packs.spec_path("ucsd-cse256-pa2")).read_text())
    spec["options"]["alibi_required"] = required
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ucsd-cse256-pa2.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setenv("GRADERS_SPECS", str(tmp_path / "specs"))
    shutil.copytree(packs.samples("ucsd-cse256-pa2") / "correct-unnamed-fused-qkv", tmp_path / "s")
    results = grade_cli(tmp_path / "s", "ucsd-cse256-pa2", tmp_path / "out", "--profile", "full")
    (alibi,) = [t for t in results["tests"] if t["tags"][1] == "alibi"]
    if required:
        assert alibi["score"] == 0 and "unchecked" in alibi["tags"]
        assert alibi["output"].startswith("could not be checked: no ALiBi model found")
    else:
        assert alibi["score"] == alibi["max_score"] == 1 and "options.alibi_required is false" in alibi["output"]
