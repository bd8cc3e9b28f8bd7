"""The grader's side of JHU CS601 hw6 inside the sandbox: builds the objects the student's functions take
(tiny checkpoints from the given module tiny_hub, data loaders over the grader's encodings), calls the student's
code, and records what it does: the order of forward, backward, optimizer and scheduler calls, the model's
mode and whether autograd was on at each forward, the weights training left (the checkpoint's model's apart),
and the attention mask the student hands the inner model. Everything returned is plain data; the grader scores
it.

Handout globals the grader provides: `evaluate` (the accuracy metric, which the handout downloads), `plt`
(plots are not graded), `prefix_length` and `test_dataloader` (set only under the handout's `__main__`).
Code that names 'cuda' runs on the CPU, and the result says so.
"""
import re
import sys
import types

import tiny_hub
from hf_probe import (
    Accuracy,
    NoPlot,
    Recorder,
    adapter_start,
    interface,
    loader,
    predict,
    scalar,
    seeded,
    set_classifier,
    weights,
    with_dropout,
    without_dropout,
)


def student(module):
    """The student's module with the handout's globals provided."""
    mod = sys.modules[module]
    mod.evaluate = types.SimpleNamespace(load=lambda *a, **k: Accuracy())
    mod.plt = NoPlot()
    return mod


def build(module, spec):
    """The model a check trains or evaluates: spec {"model": id, "type": "auto" | full | head | prefix | lora,
    "prefix_length"}; "auto" is AutoModelForSequenceClassification, as the handout's pre_process builds it."""
    import torch

    tiny_hub.install(".", [spec["model"]])
    torch.manual_seed(0)
    if spec["type"] == "auto":
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification.from_pretrained(spec["model"], num_labels=2)
    mod = student(module)
    mod.prefix_length = spec["prefix_length"]
    return mod.CustomModelforSequenceClassification(spec["model"], num_labels=2, type=spec["type"])


def checkpoint_model(model):
    """The checkpoint's model inside the student's (self.model, or the model peft wraps), or None."""
    from transformers import PreTrainedModel

    return next((m for m in model.modules() if isinstance(m, PreTrainedModel)), None)


def pretrained(model_name):
    """A test of whether a tensor holds one of the checkpoint's weights: how LoRA's frozen base weights are told
    from its adapters, whatever the student named them (peft's base_layer, a hand-written wrapper)."""
    from transformers import AutoModel

    weights = {}
    for t in AutoModel.from_pretrained(model_name).state_dict().values():
        weights.setdefault(tuple(t.shape), []).append(t)
    return lambda t: any(t.dtype == w.dtype and t.equal(w) for w in weights.get(tuple(t.shape), ()))


def without_adapters(model, inner, encoded, is_pretrained):
    """The logits with every tensor the student added inside the checkpoint's model (LoRA's factors) at zero,
    i.e. with no adapter update: what a LoRA model must compute before training, when B starts at zero."""
    import torch

    added = [p for p in inner.parameters() if not is_pretrained(p.detach())]
    saved = [p.detach().clone() for p in added]
    with torch.no_grad():
        for p in added:
            p.zero_()
        logits = predict(model, encoded)
        for p, value in zip(added, saved, strict=True):
            p.copy_(value)
    return logits


def encode(module, model_name, records, max_len, indices):
    """Items of the student's BoolQADataset built with the tiny tokenizer."""
    from transformers import AutoTokenizer

    tiny_hub.install(".", [model_name])
    mod = student(module)
    tok = AutoTokenizer.from_pretrained(model_name)
    ds = mod.BoolQADataset(passages=[r["passage"] for r in records], questions=[r["question"] for r in records],
                           answers=[r["answer"] for r in records], tokenizer=tok, max_len=max_len)
    return {"length": len(ds), "items": [ds[i] for i in indices]}


def forward(module, spec, encoded):
    """The custom model's logits on `encoded` in eval mode, the parameters outside the checkpoint (classifier,
    prefix), and the attention masks and input shapes its forward handed the checkpoint's model."""
    import torch

    rec = Recorder()
    with rec.patched():
        model = build(module, spec)
        inner = checkpoint_model(model)
        seen = []
        if inner is not None:
            def log(m, args, kwargs):
                mask, embeds = kwargs.get("attention_mask"), kwargs.get("inputs_embeds")
                seen.append({"attention_mask": mask.detach().clone() if torch.is_tensor(mask) else None,
                             "inputs_embeds": list(embeds.shape) if torch.is_tensor(embeds) else None})
            inner.register_forward_pre_hook(log, with_kwargs=True)
        try:
            logits = predict(model, encoded)
        except Exception:  # a mask shorter than the embeddings is named by the grader, not reported as a crash
            if not any(c["inputs_embeds"] and c["attention_mask"] is not None
                       and c["attention_mask"].shape[-1] != c["inputs_embeds"][1] for c in seen):
                raise
            logits = None
        without = None
        if spec["type"] == "lora" and inner is not None and logits is not None:
            without = without_adapters(model, inner, encoded, pretrained(spec["model"]))
    own = {id(p) for p in inner.parameters()} if inner is not None else set()
    extra = {n: p.detach().clone() for n, p in model.named_parameters() if id(p) not in own}
    return {"logits": logits, "extra": extra, "inner_calls": seen, "without_adapters": without, "cuda": rec.cuda}


def set_start(model, start, model_name):
    """Give the custom model's own parameters outside the checkpoint's model (its Linear(hidden_size, 2), the
    prefix), found by shape, the grader's values `start` {name: nested list}, and under "adapters" the seed of the
    added low-rank factors inside it (LoRA's), so the grader knows where the model starts. Returns a problem or
    None."""
    import torch

    inner = checkpoint_model(model)
    own = {id(p) for p in inner.parameters()} if inner is not None else set()
    outside = [p for p in model.parameters() if id(p) not in own]
    if "adapters" in start and inner is not None:
        start_adapters(inner, start["adapters"], pretrained(model_name))
    for key, value in start.items():
        if key == "adapters":
            continue
        want = torch.tensor(value)
        found = [p for p in outside if p.shape == want.shape]
        if not found:
            return f"the model has no parameter of shape {tuple(want.shape)} outside the checkpoint: its classifier " \
                   "must be a Linear(hidden_size, num_labels), its prefix a (prefix_length, hidden_size) parameter"
        with torch.no_grad():
            found[0].copy_(want)
    return None


def start_adapters(inner, seed, is_pretrained):
    """Each 2-D tensor added inside the checkpoint's model that is not square (LoRA's A and B, whatever their
    names) starts where hf_probe.adapter_start puts it for the grader's `seed`."""
    import torch

    with torch.no_grad():
        for name, p in inner.named_parameters():
            if p.dim() == 2 and p.shape[0] != p.shape[1] and not is_pretrained(p.detach()):
                p.copy_(adapter_start(seed, name, tuple(p.shape)))


def scale_attributes(inner):
    """{module name: {attribute: number}} for the numbers modules of the checkpoint's model hold under LoRA's names
    (peft's scaling, r and lora_alpha, a hand-written scale or alpha): which scaling of the update the grader's
    run takes. A guide only: a wrong one just fails to match."""
    out = {}
    for name, m in inner.named_modules():
        found = {}
        for key, value in vars(m).items():
            value = next(iter(value.values()), None) if isinstance(value, dict) else value
            if re.search(r"scal|alpha|rank|^r$", key) and isinstance(value, (int, float)) \
                    and not isinstance(value, bool):
                found[key] = float(value)
        if found:
            out[name] = found
    return out


def handout_model(name):
    """The handout's custom model for full tuning (the mean of the last hidden state through a Linear), built here
    rather than from the student's class, so that evaluate_model is judged apart from the student's forward."""
    import torch
    from transformers import AutoModel

    class Handout(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = AutoModel.from_pretrained(name)
            self.classifier = torch.nn.Linear(self.model.config.hidden_size, 2)

        def forward(self, input_ids, attention_mask, **kwargs):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return {"logits": self.classifier(hidden.mean(dim=1))}

    tiny_hub.install(".", [name])
    return Handout()


def evaluate(module, spec, encoded, decoys, head):
    """The student's evaluate_model on a model left in train mode with dropout 0.5 and the grader's classifier
    `head` (the auto model, or the handout's custom model), once per list of labels in `decoys`: what it returned
    each time and how each forward ran. The grader computes the accuracies itself."""
    fn = student(module).evaluate_model
    rec = Recorder()
    returned = []
    with rec.patched():
        model = build(module, spec) if spec["type"] == "auto" else handout_model(spec["model"])
        with_dropout(set_classifier(model, head), 0.5)
        rec.watch(model)
        for labels in decoys:
            model.train()
            batches = loader({**encoded, "labels": labels}, 8)
            args, kwargs, problem = interface(fn, (model, batches, "cpu"), {"model": model, "dataloader": batches,
                                                                             "device": "cpu"})
            if problem:
                return {"interface": problem}
            got = fn(*args, **kwargs)
            returned.append({k: scalar(v) for k, v in got.items()} if isinstance(got, dict) else scalar(got))
    return {"returned": returned, "events": rec.events, "cuda": rec.cuda}


def train(module, spec, train_set, dev_set, epochs, lr, batch_size, start=None):
    """The student's train on `train_set`, its training forwards' dropout seeded from their batch
    (hf_probe.seeded); `dev_set` (labels the grader drew) is what it may validate on. Returns the calls it made
    and the trained weights, which the grader evaluates and compares itself. The custom model starts from the
    grader's `start` (set_start) without dropout, and its checkpoint's weights come back apart from the model's own
    ones, with the numbers that say how its LoRA scales the update (scale_attributes)."""
    mod = student(module)
    fn = mod.train
    rec = Recorder()
    with rec.patched():
        model = build(module, spec)
        problem = set_start(model, start, spec["model"]) if start else None
        if problem:
            return {"interface": problem}
        if start:
            without_dropout(model)
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        rec.watch(model)
        seeded(model)
        tr, dev = loader(train_set, batch_size), loader(dev_set, batch_size)
        mod.test_dataloader = dev
        known = {"mymodel": model, "model": model, "num_epochs": epochs, "train_dataloader": tr,
                 "validation_dataloader": dev, "test_dataloder": dev, "test_dataloader": dev, "device": "cpu",
                 "lr": lr, "model_name": spec["model"], "small_subset": False}
        handout = [model, epochs, tr, dev] + ([dev] if spec["type"] != "auto" else []) + ["cpu", lr] + (
            [spec["model"]] if spec["type"] != "auto" else [])
        args, kwargs, problem = interface(fn, handout, known)
        if problem:
            return {"interface": problem}
        fn(*args, **kwargs)
    inner_model = checkpoint_model(model)
    inner = {id(p) for p in inner_model.parameters()} if inner_model is not None else set()
    split = {"inner": weights(inner_model) if inner_model is not None else {},
             "own": {n: p.detach().clone() for n, p in model.named_parameters() if id(p) not in inner},
             "own_before": {n: before[n] for n, p in model.named_parameters() if id(p) not in inner},
             "scales": scale_attributes(inner_model) if inner_model is not None else {}}
    return {"events": rec.events, "batches": len(tr), "weights": weights(model), "cuda": rec.cuda,
            **(split if start else {})}
