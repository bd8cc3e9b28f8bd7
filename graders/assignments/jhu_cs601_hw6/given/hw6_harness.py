"""The grader's side of JHU CS601 hw6 inside the sandbox: builds the objects the student's functions take
(tiny checkpoints from the given module tiny_hub, data loaders over the grader's encodings), calls the student's
code, and records what it does: the order of forward, backward, optimizer and scheduler calls, the model's
mode and whether autograd was on at each forward, which parameters training changed, and the attention mask
the student hands the inner model. Everything returned is plain data; the grader scores it.

Handout globals the grader provides: `evaluate` (the accuracy metric, which the handout downloads), `plt`
(plots are not graded), `prefix_length` and `test_dataloader` (set only under the handout's `__main__`).
Code that names 'cuda' runs on the CPU, and the result says so.
"""
import sys
import types

import tiny_hub
from hf_probe import Accuracy, NoPlot, Recorder, interface, loader, predict, scalar


def student(module):
    """The student's module with the handout's globals provided."""
    mod = sys.modules[module]
    mod.evaluate = types.SimpleNamespace(load=lambda *a, **k: Accuracy())
    mod.plt = NoPlot()
    return mod


def build(module, spec):
    """The model a check trains or evaluates: spec {"model": id, "type": "auto" | full | head | prefix,
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
    from transformers import PreTrainedModel

    rec = Recorder()
    with rec.patched():
        model = build(module, spec)
        inner = next((m for m in model.modules() if isinstance(m, PreTrainedModel)), None)
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
    own = {id(p) for p in inner.parameters()} if inner is not None else set()
    extra = {n: p.detach().clone() for n, p in model.named_parameters() if id(p) not in own}
    return {"logits": logits, "extra": extra, "inner_calls": seen, "found_inner": inner is not None,
            "cuda": rec.cuda}


def evaluate(module, spec, encoded):
    """The student's evaluate_model on a model left in train mode: what it returned, how each forward ran, and
    the harness's own logits for the same model and data."""
    fn = student(module).evaluate_model
    rec = Recorder()
    with rec.patched():
        model = build(module, spec)
        model.train()
        rec.watch(model)
        args, kwargs, problem = interface(fn, (model, loader(encoded, 8), "cpu"),
                                          {"model": model, "dataloader": loader(encoded, 8), "device": "cpu"})
        if problem:
            return {"interface": problem}
        returned = fn(*args, **kwargs)
        logits = predict(model, encoded)
    returned = {k: scalar(v) for k, v in returned.items()} if isinstance(returned, dict) else scalar(returned)
    return {"returned": returned, "events": rec.events, "logits": logits, "cuda": rec.cuda}


def train(module, spec, train_set, dev_set, epochs, lr, batch_size):
    """The student's train on `train_set`; the calls it made, which parameters changed, and the trained model's
    logits on `dev_set` (predicted by the harness)."""
    import torch

    mod = student(module)
    fn = mod.train
    rec = Recorder()
    with rec.patched():
        model = build(module, spec)
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        rec.watch(model)
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
        logits = predict(model, dev_set)
    changed = [[n, p.numel(), not torch.equal(before[n], p.detach())] for n, p in model.named_parameters()]
    return {"events": rec.events, "changed": changed, "batches": len(tr), "logits": logits, "cuda": rec.cuda}
