"""The LoRA training check of JHU CS601 hw6 (classification.py's type='lora'), kept out of the student kit.

It reruns the handout's loop with peft on the adapters the student's returned tensors show (their modules, ranks,
names and orientation, peft's or a hand-written LoRA's: Layout), so the run it compares with depends on the
layout the student chose; a kit, which replays the reference only on inputs recorded from the course's samples,
cannot have recorded the run for a student's own layout. The kit says this check runs only in the autograder.
"""
import copy
import functools
import re

import torch

from graders.checks.feedback import fail
from graders.checks.hf import hf_probe
from graders.problems import StudentError
from graders_packs.jhu_cs601_hw6 import reference as ref
from graders_packs.jhu_cs601_hw6.finetune import (
    BATCH,
    LR,
    D,
    checkpoint,
    custom_runs,
    custom_training,
    encoded,
    matches_run,
    own,
    takes_up_lora,
)

KIT = "withheld"
KIT_WHY = ("its rerun follows the adapter layout your code chose (modules, ranks, names), which a recording made "
           "from the course's samples cannot cover")
__all__ = ["test_lora_trainable"]

NOT_TRAINED = ("the LoRA adapters are not trained: give the optimizer the adapters' parameters (those with "
               "requires_grad), not only the classifier's")
NO_ADAPTER = "type='lora' adds no low-rank adapter to the checkpoint's model: wrap it with peft's get_peft_model"


def test_lora_trainable(submission):
    """The weights one epoch of train(model of type 'lora') leaves, from the grader's start (the classifier, LoRA's
    A and B drawn from a secret of this grading: hf_probe.adapter_start), against the grader's run of the
    handout's loop with peft on the adapters the returned tensors show (rank from their shapes, the scaling from
    the model's attributes): the adapters and the classifier moved as that run moved them, the checkpoint's
    weights not at all."""
    if not takes_up_lora(submission):
        return
    got, start = custom_training(submission, "lora")
    case = f"hidden size d={D}, 2 labels, one epoch of train(model of type 'lora'), the classifier and the adapters' " \
           "start set by the grader"
    if not isinstance(got.get("inner"), dict):
        raise StudentError("train(model of type 'lora') sent back no weights of the checkpoint's model")
    readings = layouts(got["inner"])
    if not readings:
        fail("training with type='lora' left no low-rank adapter (A: r x in, B: out x r, r < d) in the checkpoint's "
             "model", case, **not_low_rank(lora_layout(got["inner"])))
    tried = []
    for layout in readings:
        scales = lora_scales(layout, got.get("scales"))
        canonical = {**got, "inner": {mine: layout.tensor(got["inner"], mine) for mine in layout.names}}
        build = functools.partial(lora_model, layout, start["adapters"])
        runs = custom_runs("lora", start, train=peft_run(functools.partial(build, scales[0]), start))
        if any(matches_run(canonical, start, run) for run in runs):
            if layout.transposed:
                submission.note("the LoRA factors are stored transposed (A of shape (in, r), B of (r, out), used as "
                                "x @ A @ B) and were read so")
            return
        tried.append((layout, canonical, build, scales))
    bug = next(filter(None, (lora_bug(got, c, start, lay, b, s) for lay, c, b, s in tried)), None)
    fail("after training with type='lora', the weights differ from the handout's loop with peft on the same "
         "adapters from the same start" + (", whether its factors are read as peft holds them or transposed (A of "
               "(in, r), B of (r, out))" if len(tried) > 1 else ""), case, bug=bug)


def peft_run(build, start):
    """custom_runs' `train`: reference.run of one epoch on the grader's LoRA model `build()`."""
    return lambda reading, grouped, scheduled: ref.run(build(), "lora", start, encoded(2 * BATCH, 1), BATCH, 1, LR,
                                                       reading, grouped, scheduled)


def layouts(state):
    """The readings of the returned state that find low-rank adapters: as peft holds them, then (a hand-written
    LoRA only) with A and B stored transposed."""
    found = [lora_layout(state)]
    if not found[0].peft:
        found.append(lora_layout(state, transposed=True))
    return [layout for layout in found if layout.ranks]


class Layout:
    """The grader's reading of the checkpoint's model sent back after LoRA training: `names` {name in the grader's
    peft model: the returned name}, `ranks` {adapted module: r}, `saved` (peft's modules_to_save), `peft` (the
    names are peft's), `other` (returned tensors that are none of these), `transposed` (peft names whose returned
    tensor is stored transposed: a hand-written LoRA's A of (in, r) and B of (r, out), used as x @ A @ B)."""

    def __init__(self, transposed=False):
        self.names, self.ranks, self.saved, self.peft, self.other = {}, {}, set(), False, []
        self.reads_transposed, self.transposed = transposed, set()

    def tensor(self, state, name):
        """The returned tensor behind peft name `name`, in peft's layout."""
        t = state[self.names[name]]
        return t.T if name in self.transposed else t

    def start(self, seed, name, shape):
        """Where the harness started the returned tensor behind peft name `name` (of peft shape `shape`), in peft's
        layout: drawn for the returned name and the returned shape (hf_probe.adapter_start)."""
        if name in self.transposed:
            return hf_probe.adapter_start(seed, self.names[name], tuple(shape)[::-1]).T
        return hf_probe.adapter_start(seed, self.names[name], tuple(shape))


PEFT_NAME = re.compile(r"^(.*)\.(lora_A|lora_B|modules_to_save)\.[^.]+\.(.+)$")


def lora_layout(state, transposed=False):
    """Layout of the returned state (name -> tensor). peft's names are read as they are (the adapter renamed
    `default`); a hand-written LoRA's are found by place and shape: a checkpoint weight one name segment further
    down (query.linear.weight) is the base layer, and under an adapted Linear (out x in) a tensor of shape (r, in)
    is A and one of (out, r) is B, r < min(in, out); read `transposed`, one of (in, r) is A and one of (r, out) is
    B. A d x d layer's factors fit both readings: the checks try each (layouts)."""
    ckpt, layout = checkpoint().state_dict(), Layout(transposed)
    layout.peft = any((m := PEFT_NAME.match(n)) and m[2] == "lora_A" for n in state)
    for name, t in state.items():
        if not torch.is_tensor(t):
            continue
        m = PEFT_NAME.match(name) if layout.peft else None
        if name in ckpt and t.shape == ckpt[name].shape or layout.peft and not m:
            layout.names[name] = name
        elif m:
            layout.names[f"{m[1]}.{m[2]}.default.{m[3]}"] = name
            if m[2] == "lora_A":
                layout.ranks[m[1]] = t.shape[0]
            elif m[2] == "modules_to_save":
                layout.saved.add(m[1])
        else:
            hand_written(layout, ckpt, name, t)
    paired = {p: r for p, r in layout.ranks.items() if f"{p}.lora_B.default.weight" in layout.names}
    layout.other += [layout.names.pop(n) for n in list(layout.names)
                     if ".lora_" in n and n.split(".lora_")[0] not in paired]
    layout.ranks = paired
    for key in [f"{p}.{w}" for p in paired for w in ("weight", "bias")]:  # a LoRA Linear that keeps W as its own
        if key in layout.names:
            layout.names[key.replace(".weight", ".base_layer.weight").replace(".bias", ".base_layer.bias")] = \
                layout.names.pop(key)
    return layout


def hand_written(layout, ckpt, name, t):
    """Place a returned tensor of a hand-written LoRA in `layout` by where it sits and its shape."""
    path = max((n.rsplit(".", 1)[0] for n in ckpt if name.startswith(n.rsplit(".", 1)[0] + ".")), key=len, default="")
    rest = name[len(path) + 1:].split(".")
    weight = ckpt.get(f"{path}.weight")
    if len(rest) == 2 and t.shape == ckpt.get(f"{path}.{rest[1]}", torch.empty(0)).shape:
        layout.names[f"{path}.base_layer.{rest[1]}"] = name
    elif weight is not None and weight.dim() == 2 and t.dim() == 2 and min(t.shape) < min(weight.shape):
        out, into = weight.shape
        shape = t.shape[::-1] if layout.reads_transposed else t.shape  # (r, in) or (out, r) as peft holds them
        role = "lora_A" if shape[1] == into else "lora_B" if shape[0] == out else None
        if role is None:
            layout.other.append(name)
            return
        layout.names[f"{path}.{role}.default.weight"] = name
        if layout.reads_transposed:
            layout.transposed.add(f"{path}.{role}.default.weight")
        if role == "lora_A":
            layout.ranks[path] = shape[0]
    else:
        layout.other.append(name)


def not_low_rank(layout):
    """fail()'s hints and bug for a LoRA model with no low-rank pair: a full-size update, or no adapter at all."""
    if layout.other:
        return {"details": [f"Added tensors that are not low-rank factors: {', '.join(layout.other[:4])}; LoRA adds "
                            "W + BA with A of shape (r, in) and B of shape (out, r), r < d: r(in+out) parameters per "
                            "adapted matrix, 2dr for a d x d one, not a full d x d update"]}
    return {"bug": NO_ADAPTER}


def lora_scales(layout, record):
    """The scalings of the update BA to rerun, the right one first: per adapted module, peft's own `scaling`, or for
    a hand-written LoRA alpha/r (alpha and r as the module holds them, r else from the shapes), its scale, or 1;
    then [(named bug, scalings)]: alpha alone, none, r/alpha. The numbers are the sandbox's word (a guide): a wrong
    one only fails to match."""
    record = record if isinstance(record, dict) else {}
    found = {p: {k: v for k, v in record[p].items() if isinstance(v, float)} if isinstance(record.get(p), dict)
             else {} for p in layout.ranks}
    pick = lambda p, pattern: next((v for k, v in found[p].items() if re.search(pattern, k)), None)  # noqa: E731
    right, bugs = {}, {}
    for p, r in layout.ranks.items():
        alpha, rank, scale = pick(p, "alpha"), pick(p, r"^r$|rank") or r, pick(p, "scal")
        right[p] = scale if layout.peft and scale else alpha / rank if alpha else scale or 1.0
        bugs.setdefault(SCALED_BY_ALPHA, {})[p] = alpha
        bugs.setdefault(NOT_SCALED, {})[p] = 1.0
        bugs.setdefault(SCALED_INVERSE, {})[p] = rank / alpha if alpha else None
    named = [(bug, s) for bug, s in bugs.items() if not layout.peft and None not in s.values()
             and any(abs(s[p] - right[p]) > 1e-6 * right[p] for p in s)]
    return right, named


def lora_model(layout, seed, scales):
    """The grader's copy of the checkpoint with peft's LoRA on the modules and ranks of `layout`, A drawn where the
    harness drew the student's (hf_probe.adapter_start, by the returned name), the update scaled by `scales`
    {module: scaling}, dropout off."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=max(layout.ranks.values()), target_modules=sorted(layout.ranks), lora_dropout=0.0,
                        rank_pattern=dict(layout.ranks), modules_to_save=sorted(layout.saved) or None)
    inner = get_peft_model(copy.deepcopy(checkpoint()), config).base_model.model
    with torch.no_grad():
        for name, p in inner.named_parameters():
            if name in layout.names and ".lora_" in name:
                p.copy_(layout.start(seed, name, p.shape))
    for path in layout.ranks:
        inner.get_submodule(path).scaling["default"] = scales[path]
    return inner


SCALED_BY_ALPHA = "the LoRA update BA is scaled by alpha, not alpha/r"
NOT_SCALED = "the LoRA update BA is not scaled by alpha/r"
SCALED_INVERSE = "the LoRA update BA is scaled by r/alpha, not alpha/r"


def lora_bug(got, canonical, start, layout, build, scales):
    """The named bug of LoRA training whose weights matched no run, read by the grader from the returned tensors:
    checkpoint weights that moved, adapters still at the grader's start, a classifier that never moved, or a
    wrong scaling (a run with it matches)."""
    ckpt, inner = checkpoint().state_dict(), canonical["inner"]
    base = lambda n: re.sub(r"\.(base_layer|original_module)\.", ".", n)  # noqa: E731
    if any(base(n) in ckpt and not torch.equal(t, ckpt[base(n)]) for n, t in inner.items() if torch.is_tensor(t)):
        return "the pretrained weights train in `lora`: freeze the checkpoint (get_peft_model does) so only the " \
               "adapters and the classifier change"
    factors = [n for n in inner if ".lora_" in n]
    if all(torch.equal(inner[n], layout.start(start["adapters"], n, inner[n].shape)) for n in factors):
        return NOT_TRAINED
    weight = own(got, (2, D))
    if weight is not None and torch.equal(weight, torch.tensor(start["weight"])):
        return "the classifier does not train in `lora`: it is new, so it must"
    right, named = scales
    for bug, wrong in named:
        s = {**right, **wrong}
        runs = custom_runs("lora", start, forward_bugs=False, train=peft_run(lambda s=s: build(s), start))
        if any(matches_run(canonical, start, run) for run in runs):
            return bug
    return None
