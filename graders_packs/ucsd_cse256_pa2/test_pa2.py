"""Checks for UCSD CSE 256 PA2's transformer.py: the encoder (part 1) and the decoder (part 2).

Students name their own classes, so the models are found by what they do (roles.py) and built with the
starter's hyper-parameters. The encoder must return (output, attn_maps) as the starter's sanity_check unpacks
it; the checks read the maps: rows are distributions, padding (id 0, as sanity_check pads) gets no weight,
the scale is 1/sqrt(head_dim) (attention.py rebuilds the first layer from the student's weights), and the
decoder is causal in its maps and in its logits, at T = block_size and below it.
"""
import pytest
import torch

from graders.checks.compare import close
from graders.problems import InterfaceError, StudentError
from graders.spec import Tolerance
from graders_packs.ucsd_cse256_pa2 import roles
from graders_packs.ucsd_cse256_pa2.alibi import *  # noqa: F403 - the ALiBi check
from graders_packs.ucsd_cse256_pa2.attention import *  # noqa: F403 - the scale checks
from graders_packs.ucsd_cse256_pa2.roles import B, fail, forward, maps_of, model_for

T_SHORT, PAD_FROM = 11, 7
ROW_TOL = 1e-4   # float32 softmax rows; the starter's sanity_check allows 1e-2
ROWS = Tolerance(rtol=0, atol=ROW_TOL)


@pytest.fixture
def found(submission):
    return roles.found(submission)


def parameter_count(model):
    """Trainable parameters: state_dict(keep_vars=True) sends Parameters as objects and buffers as tensors."""
    values, kinds = model.obj.state_dict(), model.obj.state_dict(keep_vars=True)
    return sum(v.numel() for k, v in values.items() if type(kinds.get(k)) is not torch.Tensor)


def expect_interface(submission, found, role):
    model = model_for(found, role)
    source = submission.source(roles.FILE)
    if source.by_content and not submission.spec.options["misnamed_transformer_accepted"]:
        raise InterfaceError(f"the models must be handed in as {roles.FILE}; the grader found them in "
                             f"{source.path.name} by its content and graded them there, but this offering counts "
                             "the name (the spec's options.misnamed_transformer_accepted is false)")
    if model.problems:
        raise InterfaceError(f"{model.cls} ({model.role}): " + "; ".join(model.problems))
    submission.note(f"found {model.role} {model.cls}, {model.built}; it returned {model.returned}; attention "
                    f"maps: {model.maps_found}; {parameter_count(model):,} parameters (with the grader's vocab_size "
                    f"{roles.HP['vocab_size']})" + "".join(f"; {n}" for n in model.notes))


def test_encoder_interface(submission, found):
    expect_interface(submission, found, "encoder")


def test_decoder_interface(submission, found):
    expect_interface(submission, found, "decoder")


def expect_rows_sum_to_one(model, x):
    maps, _ = maps_of(model, x, "the rows check")
    for layer, m in enumerate(maps):
        sums = m.sum(-1)
        bad = ~close(sums, torch.ones_like(sums), ROWS) | (m < 0).any(-1)
        if bad.any():
            b, h, i = bad.nonzero()[0].tolist()
            cols = m.sum(-2)
            bug = None
            if bool(close(cols, torch.ones_like(cols), ROWS).all()):
                bug = "softmax over the query axis (dim=-2 or dim=1) instead of the keys (dim=-1): columns sum to 1"
            elif model.role == "decoder" and not m.triu(1).any() and bool((sums <= 1 + ROW_TOL).all()):
                bug = "the causal mask is applied after the softmax: masked weights are zeroed, rows no longer sum to 1"
            fail(f"attention row {i} of layer {layer}, head {h}, batch row {b} sums to {sums[b, h, i].item():.6g}, "
                 "not 1", f"{model.cls} on token ids of shape {tuple(x.shape)}", bug=bug,
                 repro=f"m = {model.call}; m.eval(); out, attn_maps = {model.invocation}; attn_maps[{layer}].sum(-1)")


def test_encoder_rows_sum_to_one(found):
    expect_rows_sum_to_one(model_for(found, "encoder"), roles.ids(B, roles.HP["block_size"], 1))


def test_decoder_rows_sum_to_one(found):
    expect_rows_sum_to_one(model_for(found, "decoder"), roles.ids(B, roles.HP["block_size"], 1))


def test_encoder_padding_masked(submission, found):
    """sanity_check pads with id 0 to block_size: queries of real tokens give padding keys no weight. Where the
    offering's handout does not ask for a padding mask (options.padding_mask_asked false), the check reports what
    it saw and never fails."""
    model = model_for(found, "encoder")
    T = roles.HP["block_size"]
    x = roles.ids(B, T, 2, pad_from=PAD_FROM)
    maps, _ = maps_of(model, x, "the padding check")
    for layer, m in enumerate(maps):
        leak = m[:, :, :PAD_FROM, PAD_FROM:].sum(-1)
        if not (leak <= ROW_TOL).all():  # NaN fails too
            b, h, i = (~(leak <= ROW_TOL)).nonzero()[0].tolist()
            what = (f"in layer {layer}, head {h}, the real token at position {i} gives {leak[b, h, i].item():.3g} of "
                    f"its attention to padding (positions {PAD_FROM}..{T - 1} hold id 0)")
            if not submission.spec.options["padding_mask_asked"]:
                submission.note(f"{what}; this offering's handout does not ask for a padding mask, so nothing is "
                                "lost (the spec's options.padding_mask_asked is false)")
                return
            fail(what, f"{model.cls} on token ids of shape {tuple(x.shape)}, padded with 0 from position {PAD_FROM}",
                 bug="no padding mask: the scores of padding keys (id 0) are not set to -inf before the softmax",
                 repro=f"m = {model.call}; m.eval(); out, attn_maps = {model.invocation}; "
                       f"attn_maps[{layer}][..., {PAD_FROM}:]")


def decoder_run(model, T, run):
    """run(model, x) for ids x of length T; a mask sized only for block_size shows here as a shape error."""
    x = roles.ids(B, T, 5)
    try:
        return run(model, x, f"T = {T}"), x
    except StudentError as e:
        if T != roles.HP["block_size"] and "size" in str(e):
            fail(f"{model.cls} fails on a sequence shorter than block_size (T = {T}, block_size = "
                 f"{roles.HP['block_size']})", f"{model.cls} on token ids of shape {tuple(x.shape)}", [str(e)],
                 bug="causal mask built only for T == block_size: slice it to [:T, :T]",
                 repro=f"m = {model.call}; m.eval(); {model.invocation}")
        raise


def test_decoder_causal_maps(found):
    """No weight above the diagonal, at T = block_size and at a shorter T (generation and the last batch)."""
    model = model_for(found, "decoder")
    leaks = {}
    for T in (roles.HP["block_size"], T_SHORT):
        (maps, _), _ = decoder_run(model, T, maps_of)
        for layer, m in enumerate(maps):
            upper = m.triu(1)
            if (upper > 0).any() and T not in leaks:
                leaks[T] = (layer, upper)
    if not leaks:
        return
    T = next(iter(leaks))
    layer, upper = leaks[T]
    b, h, i, j = (upper > 0).nonzero()[0].tolist()
    positive = upper > 0
    if roles.HP["block_size"] not in leaks:
        bug = "causal mask built only for T == block_size: shorter sequences see the future"
    elif bool(positive.diagonal(1, -2, -1).all()) and not positive.triu(2).any():
        bug = "each position also sees the next one: the mask is off by one (tril with diagonal=1)"
    elif bool((upper.sum(-1)[..., :-1] > 0).all()):
        bug = "no causal mask takes effect: every position attends to the future (is the masked result assigned?)"
    else:
        bug = None
    fail(f"position {i} gives weight {upper[b, h, i, j].item():.3g} to the later position {j} in layer {layer}, head "
         f"{h}: the decoder sees the future", f"{model.cls} on token ids of shape ({B}, {T})", bug=bug,
         repro=f"m = {model.call}; m.eval(); logits, attn_maps = {model.invocation}; attn_maps[{layer}].triu(1)")


def test_decoder_causal_outputs(found):
    """Changing only the tokens after t leaves the logits at positions <= t unchanged, and changes later ones."""
    model = model_for(found, "decoder")
    for T in (roles.HP["block_size"], T_SHORT):
        (logits, maps), x = decoder_run(model, T, forward)
        t = T // 2
        changed = x.clone()
        changed[:, t + 1:] = (x[:, t + 1:] % (roles.HP["vocab_size"] - 1)) + 1
        after, _ = forward(model, changed, f"T = {T}")
        moved = ~torch.isclose(after[:, :t + 1], logits[:, :t + 1], rtol=1e-5, atol=1e-5)
        case = f"{model.cls} on token ids of shape ({B}, {T}); tokens after position {t} replaced"
        if moved.any():
            i = int(moved.any(-1).any(0).nonzero()[0])
            bug = None
            if maps is not None and not any(m.triu(1).any() for m in maps):
                bug = ("the maps are causal but the softmax's normalizer still sums over later positions: mask the "
                       "scores with -inf before a softmax over the keys (dim=-1)")
            elif T != roles.HP["block_size"]:
                bug = "causal mask built only for T == block_size: shorter sequences see the future"
            fail(f"the logits at position {i} changed when only tokens after position {t} changed: the decoder "
                 "sees the future", case, bug=bug, repro=f"m = {model.call}; m.eval(); {model.invocation} vs the "
                 f"same for x' = x with positions {t + 1}.. changed")
        if torch.equal(after[:, t + 1:], logits[:, t + 1:]):
            fail(f"the logits after position {t} did not change when the tokens there changed: the decoder ignores "
                 "its input", case)


