"""The reference's weights go into a student's CS224N attention by the handout's names, or into one fused key/query/
value projection (graders/checks/modules.py, Fused); parameters with no place are named, never
silently left at the student's own random values."""
import pytest
import torch

from graders.checks.modules import Fused
from graders.problems import InterfaceError

E = 8


def reference_state():
    return {f"{r}.{p}": torch.randn(E, E) if p == "weight" else torch.randn(E) for r in ("key", "query", "value", "proj")
            for p in ("weight", "bias")}


def test_the_handouts_names_need_no_mapping():
    state = reference_state()
    assert Fused.of("CausalSelfAttention", state, {**state, "mask": torch.ones(1)}) is None


def test_a_fused_projection_takes_key_query_and_value_stacked_in_each_order():
    state = reference_state()
    theirs = {"c_attn.weight": torch.zeros(3 * E, E), "c_attn.bias": torch.zeros(3 * E),
              "proj.weight": torch.zeros(E, E), "proj.bias": torch.zeros(E)}
    fused = Fused.of("CausalSelfAttention", state, theirs)
    assert (fused.weight, fused.bias) == ("c_attn.weight", "c_attn.bias")
    loaded = fused.states(state)
    assert len(loaded) == 6 and all(set(s) == set(theirs) for s in loaded)
    assert torch.equal(loaded[0]["c_attn.weight"][E:2 * E], state["key.weight"])  # nanoGPT's q, k, v first
    assert torch.equal(loaded[1]["c_attn.bias"][:E], state["key.bias"])


def test_parameters_with_no_place_are_named():
    theirs = {"q_proj.weight": torch.zeros(E, E), "k_proj.weight": torch.zeros(E, E), "proj.weight": torch.zeros(E, E)}
    with pytest.raises(InterfaceError, match=r"no parameter of the handout's name and shape for key\.weight, "
                                             r"key\.bias.*fused projection of shape \(24, 8\)"):
        Fused.of("CausalSelfAttention", reference_state(), theirs)
