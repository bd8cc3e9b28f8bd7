"""JHU CS601 hw6 reference: BoolQADataset's tokenizer call, the custom classifier's features (pooling is the
handout's: the mean of the last hidden state over the sequence) and the handout's loop training it, on the grader's
tiny checkpoints (graders/checks/hf/tiny_hub.py).

Every public function takes and returns plain data (hub names, ids, tensors, lists): the checkpoint is rebuilt here
from its name and the classifier is applied by the checks (logits are features @ W.T + b), so a student kit replays
these calls from a recording (graders/replay.py) with no code of them, whatever classifier the student's model drew.
"""
import copy

import torch

from graders.checks.hf import hf_probe, rerun, tiny_hub

_POOLS = {"mean": lambda h: h.mean(dim=1), "max": lambda h: h.max(dim=1).values, "cls": lambda h: h[:, 0],
          "sum": lambda h: h.sum(dim=1)}  # the handout's, then the known bugs' (finetune.POOLING_BUGS)


def encode(model_name, question, passage, max_len):
    """BoolQADataset.__getitem__'s encoding: question first, so a long passage is what truncation cuts."""
    enc = rerun.tokenizer(model_name)(question + " [SEP] " + passage, add_special_tokens=True, max_length=max_len,
                                 padding="max_length", truncation=True, return_attention_mask=True,
                                 return_tensors="pt")
    return enc["input_ids"][0], enc["attention_mask"][0]


def _pooled(hidden, mask, pool, masked):
    """`pool` over positions; with `masked`, the mean over the unmasked positions only (a reading the checks
    accept)."""
    if not masked:
        return _POOLS[pool](hidden)
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1)


def _with_prefix(model, prefix, input_ids, attention_mask, prefix_first=True, prefix_mask=1, whole=False):
    """Input embeddings (the word embeddings; with `whole`, the embedding layer's output) with the prefix (l x d)
    joined to every row, and the attention mask extended by l entries of `prefix_mask` (1: the prefix is attended
    to)."""
    embeds = (model.embeddings if whole else model.embeddings.word_embeddings)(input_ids)
    p = prefix.unsqueeze(0).expand(input_ids.shape[0], -1, -1)
    extra = torch.full((input_ids.shape[0], prefix.shape[0]), prefix_mask, dtype=attention_mask.dtype)
    parts = [(p, extra), (embeds, attention_mask)]
    if not prefix_first:
        parts.reverse()
    return torch.cat([e for e, _ in parts], 1), torch.cat([m for _, m in parts], 1)


def _features(model, input_ids, attention_mask, prefix=None, prefix_first=True, prefix_mask=1, pool="mean",
              masked=False, whole=False):
    """`full` and `head` (prefix None) or `prefix`: the checkpoint's last hidden state, pooled, which the linear
    classifier takes."""
    if prefix is None:
        hidden, mask = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state, attention_mask
    else:
        embeds, mask = _with_prefix(model, prefix, input_ids, attention_mask, prefix_first, prefix_mask, whole)
        hidden = model(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
    return _pooled(hidden, mask, pool, masked)


def features(model_name, input_ids, attention_mask, prefix=None, **reading):
    """The pooled features of the checkpoint `model_name` (in eval mode) on a batch, under a `reading` (keyword
    arguments of _features: pool, masked, prefix_first, prefix_mask, whole)."""
    with torch.no_grad():
        return _features(rerun.checkpoint(model_name), input_ids, attention_mask, prefix, **reading)


def run(inner, kind, start, data, batch_size, epochs, lr, reading, grouped, scheduled):
    """The handout's loop training the custom model of type `kind` built on `inner` (the checkpoint's model, without
    dropout) from `start` ({"weight", "bias"[, "prefix"]} as lists): AdamW(lr) with weight decay 0.01, not on biases
    and LayerNorm when `grouped`, on the linear warmup schedule when `scheduled`. Returns {"inner": its state
    after, "before": its state before, "weight", "bias", "prefix" (None unless `prefix`), "noise": the parameters
    whose gradient was rounding noise (rerun.Gradients)}."""
    from transformers import get_scheduler

    inner = inner.train()
    hf_probe.without_dropout(inner)
    before = rerun.snapshot(inner)
    classifier = torch.nn.Linear(tiny_hub.HIDDEN, 2)
    with torch.no_grad():
        classifier.weight.copy_(torch.tensor(start["weight"]))
        classifier.bias.copy_(torch.tensor(start["bias"]))
    prefix = torch.nn.Parameter(torch.tensor(start["prefix"])) if kind == "prefix" else None
    named = [("classifier.weight", classifier.weight), ("classifier.bias", classifier.bias)]
    named += [("prefix", prefix)] if prefix is not None else []
    named += [(n, p) for n, p in inner.named_parameters() if kind == "full" or (kind == "lora" and p.requires_grad)]
    spare = [grouped and (n.endswith("bias") or "LayerNorm.weight" in n) for n, _ in named]
    gradients = rerun.Gradients(named)
    optimizer = torch.optim.AdamW([
        {"params": [p for (_, p), s in zip(named, spare, strict=True) if not s], "weight_decay": 0.01},
        {"params": [p for (_, p), s in zip(named, spare, strict=True) if s], "weight_decay": 0.0}], lr=lr)
    batches = hf_probe.loader(data, batch_size)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                              num_training_steps=len(batches) * epochs) if scheduled else None
    for _ in range(epochs):
        for batch in batches:
            hidden = _features(inner, batch["input_ids"], batch["attention_mask"], prefix, **reading)
            torch.nn.functional.cross_entropy(classifier(hidden), batch["labels"]).backward()
            gradients.record()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            optimizer.zero_grad()
    return {"inner": {k: v.detach().clone() for k, v in inner.state_dict().items()}, "before": before,
            "weight": classifier.weight.detach().clone(), "bias": classifier.bias.detach().clone(),
            "prefix": prefix.detach().clone() if prefix is not None else None, "noise": sorted(gradients.noise())}


def train(model_name, kind, start, data, batch_size, epochs, lr, reading, grouped, scheduled):
    """run() on the checkpoint `model_name` itself, in plain data: "inner" holds only the tensors training
    changed, and "before" is left out (it is the checkpoint)."""
    found = run(copy.deepcopy(rerun.checkpoint(model_name)), kind, start, data, batch_size, epochs, lr, reading,
                grouped, scheduled)
    before = found.pop("before")
    found["inner"] = {k: v for k, v in found["inner"].items() if not torch.equal(v, before[k])}
    return found


def trainable(hidden, num_labels=2, prefix_length=0):
    """Parameters `head` (prefix_length 0) and `prefix` tuning train: the classifier's weight and bias, and the
    prefix: num_labels*d + num_labels + l*d (2d+2+ld for two labels)."""
    return num_labels * hidden + num_labels + prefix_length * hidden
