"""UCSD CSE 256 PA2's model finder (graders_packs/ucsd_cse256_pa2/models.py) in the grader's process: the
constructor adapter, the shapes of attention maps it accepts, the extraction of every class of a file, and the
reading of the student's main.py (mainpy.py), which is parsed and never run."""
import inspect
import sys
import types

import pytest
import torch

from graders import packs
from graders.extract import extract
from graders.problems import InterfaceError
from graders.submission import Cell
from graders_packs.ucsd_cse256_pa2 import mainpy, models, roles

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


# -- main.py, read as data (graders_packs/ucsd_cse256_pa2/mainpy.py)

MAIN = '''
import torch
import transformer
from transformer import Decoder as Dec
from utilities import Utilities

device = "cpu"
block_size = 32
n_embd = 128          # the student's own value: the grader still builds with its n_embd (64)
n_head = 2
EMB = n_embd          # a name of the student's own, for a hyper-parameter
HIDDEN = 100          # a number of the starter's (n_hidden)

def compute_classifier_accuracy(classifier, data_loader):
    return 0

def compute_perplexity(decoderLMmodel, data_loader, eval_iters=100):
    return 0

def main():
    tokenizer = SimpleTokenizer(texts)
    m = transformer.Classifier(tokenizer.vocab_size, EMB, n_head, 4, block_size, HIDDEN, 3)
    model = m.to(device)
    Utilities(tokenizer, model).sanity_check("a sentence", block_size)
    compute_classifier_accuracy(model, test_CLS_loader)
    model = Dec(vocab=len(tokenizer.stoi), width=EMB, heads=n_head, ff_mult=7, dropout=0.3).to(device).train()
    compute_perplexity(decoderLMmodel=model, data_loader=test_LM_loader)
'''
CLASSES = ["Classifier", "Decoder", "Block"]


def test_main_py_roles_through_assignments_and_to_device_chains():
    main = mainpy.read([MAIN], CLASSES)
    assert {role: cls for role, (cls, _) in main["roles"].items()} == {"classifier": "Classifier", "decoder": "Decoder"}
    assert main["roles"]["decoder"][1].startswith("compute_perplexity(model, ...) at line ")
    assert main["sanity"] == ["Classifier"]
    # 4 and 3 stay numbers: small numbers are read as written, never guessed to be n_layer or n_output by value
    assert main["calls"]["Classifier"]["args"] == [["hp", "vocab_size"], ["hp", "n_embd"], ["hp", "n_head"],
                                                   ["value", 4], ["hp", "block_size"], ["hp", "n_hidden"],
                                                   ["value", 3]]
    assert main["calls"]["Decoder"]["kwargs"] == {"vocab": ["hp", "vocab_size"], "width": ["hp", "n_embd"],
                                                  "heads": ["hp", "n_head"], "ff_mult": ["value", 7],
                                                  "dropout": ["value", 0.3]}
    assert main["calls"]["Decoder"]["text"].startswith("Dec(vocab=len(tokenizer.stoi), width=EMB")


def test_main_py_arguments_give_the_graders_values_under_the_students_names():
    main = mainpy.read([MAIN], CLASSES)
    kwargs = models.constructor_kwargs("Decoder", "(vocab, width, heads, ff_mult=4, dropout=0.1, *, causal=False)",
                                       causal=True, main=main)
    # width: main.py's n_embd, with the grader's value; ff_mult: main.py's own constant (the grader has none);
    # dropout: an alias, so the grader's 0.0 over main.py's 0.3; causal: the grader's flag
    assert kwargs == {"vocab": 97, "width": 64, "heads": 2, "ff_mult": 7, "dropout": 0.0, "causal": True}
    positional = models.constructor_kwargs("Classifier", "(v, e, h, layers, t, hid, out)", causal=False, main=main)
    assert positional == {"v": 97, "e": 64, "h": 2, "layers": 4, "t": 32, "hid": 100, "out": 3}
    assert models.takes_vocabulary("(v, e, h, layers, t, hid, out)", "Classifier", main)
    assert not models.takes_vocabulary("(v, e, h, layers, t, hid, out)", "Classifier", None)
    with pytest.raises(models.Unusable, match=r"requires 'tokenizer', and main.py's `Dec\(vocab=") as e:
        models.constructor_kwargs("Decoder", "(vocab, width, tokenizer)", causal=True, main=main)
    assert "tokenizer=n_embd" not in str(e.value)  # what the grader tried, never a guess at what it might be
    with pytest.raises(models.Unusable, match="requires 'width', which is not one of"):
        models.constructor_kwargs("Decoder", "(vocab, width)", causal=True, main=None)


def test_a_device_parameter_gets_the_grading_device_whatever_main_py_passes():
    """main.py passes `device=device` (torch.device('cuda' if ...)); the grader builds on its own device."""
    main = mainpy.read([MAIN], CLASSES)
    kwargs = models.constructor_kwargs("Decoder", "(vocab, width, heads, device)", causal=True, main=main)
    assert kwargs["device"] == "cpu" and kwargs["width"] == 64
    assert models.constructor_kwargs("Decoder", "(vocab_size, device)", True, {**models.HP, "device": "cuda"}) == {
        "vocab_size": 97, "device": "cuda"}


@pytest.mark.parametrize("cells", [
    ["def main(:\n    model = Decoder(vocab_size=1)\n"],           # a syntax error
    ["x = 1\n"],                                                    # no model
    ["model = build_model()\ncompute_perplexity(model, loader)\n"],  # a model main.py does not build plainly
    [],
])
def test_a_main_py_that_says_nothing_readable_gives_none(cells):
    assert mainpy.read(cells, CLASSES) is None


def test_a_notebook_cell_that_does_not_parse_costs_only_that_cell():
    cells = ["n_embd = 64\n", "def broken(:\n", "model = Decoder(vocab_size=v, width=n_embd)\ncompute_perplexity(model, l)\n"]
    assert mainpy.read(cells, CLASSES)["roles"]["decoder"][0] == "Decoder"


def test_main_py_is_never_run(tmp_path):
    """Whatever main.py does is only parsed: no file is removed, no module imported, no command run."""
    sentinel = tmp_path / "sentinel"
    sentinel.write_text("still here")
    weird = f'''
import os, shutil, sys
import module_that_does_not_exist_pa2
os.remove({str(sentinel)!r})
shutil.rmtree({str(tmp_path)!r})
exec("import os; os.remove({str(sentinel)!r})")
__import__("os").system("rm -f {sentinel}")
sys.exit(3)
while True:
    pass
model = Decoder(vocab_size=tokenizer.vocab_size, width=n_embd)
compute_perplexity(model, loader)
'''
    main = mainpy.read([weird], CLASSES)
    assert sentinel.read_text() == "still here" and "module_that_does_not_exist_pa2" not in sys.modules
    assert main["roles"]["decoder"][0] == "Decoder" and main["calls"]["Decoder"]["kwargs"]["width"] == ["hp", "n_embd"]


def test_self_referencing_and_cyclic_assignments_end():
    cells = ["a = b\nb = a\nmodel = Decoder(vocab_size=v, width=a)\nmodel = model.to(device)\n"
             "compute_perplexity(model, loader)\n"]
    main = mainpy.read(cells, CLASSES)
    assert main["roles"]["decoder"][0] == "Decoder" and main["calls"]["Decoder"]["kwargs"]["width"] is None
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    assert mainpy.read([deep], CLASSES) is None


def test_training_loops_and_an_encoder_inside_the_classifier():
    cells = ['''
enc = Encoder(vocab_size=tokenizer.vocab_size, n_embd=n_embd)
clf = Head(enc, n_hidden, n_output)
for epoch in range(epochs_CLS):
    for xb, yb in train_CLS_loader:
        logits = clf(xb)
lm = Decoder(vocab_size=tokenizer.vocab_size, n_embd=n_embd)
for i, (xb, yb) in enumerate(train_LM_loader):
    loss = lm(xb, yb)
''']
    main = mainpy.read(cells, ["Encoder", "Head", "Decoder"])
    assert {role: cls for role, (cls, _) in main["roles"].items()} == {"classifier": "Head", "encoder": "Encoder",
                                                                      "decoder": "Decoder"}
    assert "in a loop over the decoder's data" in main["roles"]["decoder"][1]


class Emitter(torch.nn.Module):
    """A stand-in model: next-token logits (decoder) or the embeddings (encoder), with one map per layer."""
    decoder = True

    def __init__(self, vocab_size, n_embd):
        super().__init__()
        self.emb, self.out = torch.nn.Embedding(vocab_size, n_embd), torch.nn.Linear(n_embd, vocab_size)

    def forward(self, x):
        B, T = x.shape
        maps = [torch.full((B, 2, T, T), 1 / T)] * 4
        return (self.out(self.emb(x)) if self.decoder else self.emb(x)), maps


class SpeechModel(Emitter):
    pass


class GPTDraft(Emitter):
    pass


class EncoderLike(Emitter):
    decoder = False


def discovered(main, *classes):
    module = types.SimpleNamespace(**{c.__name__: c for c in classes})
    names = {c.__name__: {"kind": "class", "signature": str(inspect.signature(c))} for c in classes}
    return roles.discover(module, names, [c.__name__ for c in classes], main)


def test_main_py_roles_outrank_the_names_hints():
    said = {"roles": {"decoder": ["SpeechModel", "compute_perplexity(model, ...) at line 9"]}, "sanity": [], "calls": {}}
    assert discovered(None, SpeechModel, GPTDraft).models["decoder"].cls == "GPTDraft"  # "gpt" says decoder
    found = discovered(said, SpeechModel, GPTDraft)
    assert found.models["decoder"].cls == "SpeechModel"
    assert found.models["decoder"].notes == ["main.py uses it as the decoder: compute_perplexity(model, ...) at line 9"]


def test_behaviour_wins_over_main_py_and_the_feedback_says_so():
    said = {"roles": {"decoder": ["EncoderLike", "compute_perplexity(m, ...) at line 3"]}, "sanity": [], "calls": {}}
    found = discovered(said, EncoderLike, SpeechModel)
    assert found.models["decoder"].cls == "SpeechModel" and found.models["encoder"].cls == "EncoderLike"
    assert "main.py uses EncoderLike as the decoder" in found.models["decoder"].notes[0]
    assert "it plays the encoder" in found.models["decoder"].notes[0]
    with pytest.raises(InterfaceError, match="main.py uses EncoderLike as the decoder .*it plays the encoder"):
        roles.model_for(discovered(said, EncoderLike), "decoder")


def test_the_model_is_described_as_main_py_builds_it():
    call = {"args": [["hp", "vocab_size"]], "kwargs": {"n_embd": ["hp", "n_embd"]}, "text": "SpeechModel(v, n_embd=E)"}
    found = discovered({"roles": {}, "sanity": [], "calls": {"SpeechModel": call}}, SpeechModel)
    assert found.models["decoder"].built == ("built as main.py does (`SpeechModel(v, n_embd=E)`): "
                                             "SpeechModel(vocab_size=97, n_embd=64)")
    assert discovered(None, SpeechModel).models["decoder"].built == "built as SpeechModel(vocab_size=97, n_embd=64)"


def test_a_function_parameter_hides_a_global_of_its_name():
    cells = ['''
model = Decoder(vocab_size=v)
def train(model, loader):
    for xb, yb in train_CLS_loader:
        model(xb)
compute_perplexity(model, loader)
''']
    assert {role: cls for role, (cls, _) in mainpy.read(cells, CLASSES)["roles"].items()} == {"decoder": "Decoder"}


def test_an_absent_main_py_costs_nothing_and_is_not_mentioned(tmp_path):
    """main.py is an optional data file of the spec: never missing, never run, and silent when absent."""
    from graders import spec as specs
    from graders.grade import prepared

    samples = packs.samples("ucsd-cse256-pa2")
    spec = specs.get("ucsd-cse256-pa2")
    with prepared(samples / "bug-renamed-parameter", spec, tmp_path) as (submission, notices):
        assert submission.missing() == {} and not [n for n in notices if "main.py" in n]
        assert mainpy.conventions(submission) is None
    with prepared(samples / "correct-main-width", spec, tmp_path) as (submission, notices):
        assert submission.extractions["main.py"].statements == []  # read as data, never sent to the sandbox
        assert mainpy.conventions(submission)["roles"]["decoder"][0] == "TransformerDecoder"


# -- forwards the way students write them: explicit masks, maps on request

MASKS = '''
from transformer import Encoder, Decoder
enc = Encoder(tokenizer.vocab_size, n_embd, device=device)
dec = Decoder(tokenizer.vocab_size, n_embd)
causal = torch.tril(torch.ones(block_size, block_size)).to(device)
for xb, yb in train_CLS_loader:
    pad = (xb == 0)[:, None, None, :].float()
    out = enc(xb, pad)
for xb, yb in train_LM_loader:
    loss = dec(xb, mask=~(~causal.bool()), targets=yb)
'''


def test_main_py_masks_are_read_as_recipes_and_rebuilt_for_the_graders_ids():
    main = mainpy.read([MASKS], ["Encoder", "Decoder"])
    assert main["masks"] == {"Encoder": {"kind": "padding", "keep": False, "dims": [1, 2], "dtype": "float"},
                             "Decoder": {"kind": "causal", "keep": True, "dtype": "bool"}}
    x = models.ids(B, 5, 0, pad_from=3)
    pad = models.mask_of(main["masks"]["Encoder"], x)
    assert pad.shape == (B, 1, 1, 5) and pad.dtype == torch.float and pad[0, 0, 0].tolist() == [0, 0, 0, 1, 1]
    assert torch.equal(models.mask_of(main["masks"]["Decoder"], x), torch.ones(5, 5, dtype=torch.bool).tril())
    assert "masks" not in mainpy.read([MAIN], CLASSES)  # nothing passed, nothing said


def test_forward_parameters_are_read_from_the_source_through_base_classes():
    source = ("class Base(nn.Module):\n    def forward(self, x, mask, return_attention=False):\n        pass\n"
              "class Enc(Base):\n    pass\nclass Dec(nn.Module):\n    def forward(self, idx, targets=None):\n"
              "        pass\nclass Odd(Unknown):\n    pass\n")
    got = models.forward_parameters([source], ["Enc", "Dec", "Odd"])
    assert got == {"Enc": [("mask", True), ("return_attention", False)], "Dec": [("targets", False)], "Odd": None}
    plans = models.forward_plans(got["Enc"])
    assert [p["recipe"]["dims"] for p in plans] == [[1, 2], [1], []] and plans[0]["flags"] == ["return_attention"]
    assert models.forward_plans(got["Enc"], decoder=True)[0]["recipe"]["kind"] == "causal"
    assert models.forward_plans(got["Dec"]) == [{"mask": None, "recipe": None, "flags": []}]
    assert models.described(plans[0]) == "return_attention=True, mask=(x != 0).unsqueeze(1).unsqueeze(2)"


def test_a_helper_that_sets_hyper_parameter_globals_is_kept_and_its_classes_are_candidates():
    source = ("import torch\nvocab_size = None\ndef configure(v):\n    global vocab_size, seed\n    vocab_size = v\n"
              "def unused():\n    pass\nclass M(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
              "        self.e = torch.nn.Embedding(vocab_size, 4)\nclass Other:\n    pass\n")
    ex = extract([Cell(source, "transformer.py")], [], all_classes=True)
    assert ex.setters == {"configure": ["vocab_size", "seed"]}
    kept = [n for s in ex.statements for n in s.names]
    assert "configure" in kept and "unused" not in kept
    facts = models.module_globals(ex.setters, {c: ex.reads.get(c, ()) for c in ex.classes})
    assert facts == {"setters": ["configure"], "models": ["M"]}
    calls = []
    assert models.set_globals(facts["setters"], {"configure": "(vocab)"}, lambda f, kw: calls.append((f, kw)),
                              (models.Unusable,)) == []
    assert calls == [("configure", {"vocab": 97})]  # vocab: an alias of vocab_size
    assert extract([Cell(source, "transformer.py")], []).setters == {}


def test_a_forward_parameter_the_grader_cannot_fill_is_named_not_given_the_ids():
    """forward(x, m): the grader used to pass the next tokens as `m` and report the crash as the student's."""
    why = models.unfilled("Encoder", [("m", True), ("return_attention", False)])
    assert why.startswith("Encoder.forward requires 'm' besides the token ids, which the grader cannot fill")
    assert models.unfilled("Decoder", [("mask", True), ("targets", True), ("return_attn", False)]) is None
    assert models.unfilled("Decoder", None) is None


def test_the_first_branch_of_an_if_chain_is_main_pys_default_run():
    """A public hand-in picks its part 3 variants by argument: `if ...: model = A(...) elif ...: model = B(...)`;
    the model main.py then uses is the first branch's, and its feed-forward size is an alias the grader knows."""
    cells = ['''
if args.model == "part1":
    model = Plain(vocab_size=tokenizer.vocab_size, embed_size=n_embd, feed_forward_dimension=100)
elif args.model == "deberta":
    model = Fancy(vocab_size=tokenizer.vocab_size, embed_size=n_embd)
compute_classifier_accuracy(model, test_CLS_loader)
''']
    main = mainpy.read(cells, ["Plain", "Fancy"])
    assert main["roles"]["classifier"][0] == "Plain"
    kwargs = models.constructor_kwargs("Plain", "(vocab_size, embed_size, feed_forward_dimension)", False, main=main)
    assert kwargs == {"vocab_size": 97, "embed_size": 64, "feed_forward_dimension": 100}
    assert models.stands_for("feed_forward_dimension", {}) == "n_hidden"


class Block(torch.nn.Module):
    def __init__(self, n_embd):
        super().__init__()


def test_when_no_class_fits_the_message_says_where_the_grader_looked():
    """Discovery that finds no model names each file handed in and its classes, and what makes a class a candidate,
    and suggests no parameter values."""
    module = types.SimpleNamespace(Block=Block)
    names = {"Block": {"kind": "class", "signature": str(inspect.signature(Block))}}
    found = roles.discover(module, names, ["Block"], looked={"transformer.py": ["Block"], "main.py": []})
    with pytest.raises(InterfaceError) as e:
        roles.model_for(found, "encoder")
    assert "(transformer.py: Block; main.py: no class)" in str(e.value)
    assert "constructor takes the vocabulary size" in str(e.value) and "=" not in str(e.value)
