"""UCSD CSE 256 PA2's model finder (graders/assignments/ucsd_cse256_pa2/models.py) in the grader's process: the
constructor adapter, the shapes of attention maps it accepts, and the extraction of every class of a file."""
import pytest
import torch

from graders.assignments.ucsd_cse256_pa2 import models
from graders.extract import extract
from graders.submission import Cell

B, T = 2, models.HP["block_size"]


@pytest.mark.parametrize("signature,expected", [
    ("(vocab_size, n_embd, n_head, n_layer, block_size)",
     {"vocab_size": 97, "n_embd": 64, "n_head": 2, "n_layer": 4, "block_size": 32}),
    ("(vocab, d_model, num_heads, num_layers, max_len, d_ff=256, dropout=0.1, *, causal=False)",
     {"vocab": 97, "d_model": 64, "num_heads": 2, "num_layers": 4, "max_len": 32, "d_ff": 100, "dropout": 0.0,
      "causal": True}),
])
def test_constructor_keywords_by_name_and_alias(signature, expected):
    assert models.constructor_kwargs("M", signature, causal=True) == expected


def test_a_config_object_and_an_unknown_required_parameter():
    (config,) = models.constructor_kwargs("GPT", "(config)", causal=False).values()
    assert config.n_embd == 64 and config.causal is False
    with pytest.raises(models.Unusable, match="requires 'tokenizer'"):
        models.constructor_kwargs("Decoder", "(vocab_size, n_embd, tokenizer)", causal=True)


def test_attention_maps_in_every_accepted_layout():
    layer = torch.rand(B, 2, T, T)
    layouts = {"per layer (B, h, T, T)": [layer] * 4, "stacked": torch.stack([layer] * 4),
               "per layer and head": [layer[:, 0]] * 8, "nested": [[layer[:, 0], layer[:, 1]]] * 4,
               "per layer (B, T, T)": tuple([layer[:, 0]] * 4), "first example's (T, T)": [layer[0, 0]] * 4}
    heads = {k: [m.shape[1] for m in models.layer_maps(v, B, T)[0]] for k, v in layouts.items()}
    assert heads == {"per layer (B, h, T, T)": [2] * 4, "stacked": [2] * 4, "per layer and head": [2] * 4,
                     "nested": [2] * 4, "per layer (B, T, T)": [1] * 4, "first example's (T, T)": [1] * 4}
    assert models.layer_maps([torch.rand(B, T, T + 1)], B, T) is None


def test_roles_from_what_forward_returns():
    maps = [torch.rand(B, 2, T, T)] * 4
    assert models.classify((torch.rand(B, 3), maps), B, T)[0] == "classifier"
    assert models.classify((torch.rand(B, T, 64), maps), B, T)[0] == "encoder"
    assert models.classify((torch.rand(B * T, 97), None, maps), B, T)[0] == "decoder"
    assert models.classify(torch.rand(()), B, T) is None


def test_every_class_is_extracted_when_asked():
    source = "import torch\nclass Mine(torch.nn.Module):\n    pass\n\nclass Other:\n    pass\n\nmodel = Mine()\n"
    assert extract([Cell(source, "transformer.py")], [], all_classes=True).classes == ["Mine", "Other"]
    kept = [n for s in extract([Cell(source, "transformer.py")], [], all_classes=True).statements for n in s.names]
    assert kept == ["torch", "Mine", "Other"]
    assert extract([Cell(source, "transformer.py")], []).statements == []


@pytest.mark.parametrize("zygote", [False, True], ids=["fresh child", "forked from the zygote"])
def test_the_sandbox_hash_seed_is_fixed(zygote):
    """The handout's SimpleTokenizer numbers its vocabulary in set order, so a student's tokenizer (or any set
    iteration) must give the same order in every sandbox child: hash('abc') under PYTHONHASHSEED=0."""
    from graders.sandbox.session import Session
    from graders.sandbox.worker import Limits, Zygote

    source = "def h():\n    return hash('abc')\n"
    module = [{"name": "m", "file": "m.py", "statements": [{"source": source, "file": "m.py", "lineno": 1,
                                                            "names": ["h"]}]}]
    started = Zygote() if zygote else None
    try:
        session = Session(module, {"m.py": source}, Limits()).start()
        try:
            assert session.call("m", "h") == -4594863902769663758
        finally:
            session.close()
    finally:
        if started:
            started.stop()
