"""The grader's side of A2S3 (UW CSE 447 Winter 2024) inside the sandbox: builds what the handout's cells hand the
student's code (the tiny checkpoint under "roberta-base", the handout's SST2Example, raw data the grader made,
data loaders whose batches look like the handout's collate_fn output, an AdamW optimizer), calls the student's
SST2Dataset, train_one_epoch and evaluate, and records what they did (hf_probe.Recorder). Everything returned is
plain data; the grader scores it (graders_packs/uw_cse447_a2/finetune.py).

Handout globals the grader provides: SST2Example (given code), `tokenizer` (Step 2 loads it at the top level),
`tqdm` (the handout imports tqdm.notebook, which needs Jupyter's widgets; progress bars are not graded).
"""
import dataclasses
import functools
import itertools
import sys

import tiny_hub
from hf_probe import Recorder, interface, scalar, seeded, set_classifier, weights, with_dropout

MODULE = "A2S3"
MODEL = "roberta-base"


@dataclasses.dataclass
class SST2Example:
    """The handout's given SST2Example: one raw record {"text", "label"}."""
    text: str
    label: int

    @staticmethod
    def from_dict(data):
        return SST2Example(text=data["text"], label=data["label"])


def tokenizer():
    from transformers import AutoTokenizer

    tiny_hub.install(".", [MODEL])
    return AutoTokenizer.from_pretrained(MODEL)


def student():
    """The student's module with the handout's globals in place."""
    from tqdm import tqdm

    mod = sys.modules[MODULE]
    mod.SST2Example, mod.tokenizer, mod.tqdm = SST2Example, tokenizer(), functools.partial(tqdm, disable=True)
    return mod


def plain(item):
    """An item of the dataset as plain data: its text and label, or what it is instead."""
    text, label = getattr(item, "text", None), getattr(item, "label", None)
    if isinstance(item, SST2Example) and isinstance(text, str) and type(label) is int:
        return {"text": text, "label": label}
    return {"type": type(item).__name__, "repr": repr(item)[:200]}


def dataset(records, indices):
    """SST2Dataset(tokenizer, records): its len, the items at `indices`, and what iterating it yields (at most one
    item more than there are records)."""
    mod = student()
    ds = mod.SST2Dataset(mod.tokenizer, records)
    return {"length": scalar(len(ds)), "items": [plain(ds[i]) for i in indices],
            "iterated": [plain(x) for x in itertools.islice(iter(ds), len(records) + 1)]}


def collate(records):
    """SST2Dataset.collate_fn on the handout's SST2Examples of `records`, after the dataset was built as the handout
    builds it (its __init__ sets the class's tokenizer): the encoding and the labels, as plain data."""
    mod = student()
    mod.SST2Dataset(mod.tokenizer, records)
    got = mod.SST2Dataset.collate_fn([SST2Example.from_dict(r) for r in records])
    if not isinstance(got, dict):
        return {"interface": f"collate_fn returned {type(got).__name__}, not the handout's dictionary "
                             "{'text_encoding': ..., 'label_encoding': ...}"}
    encoding = got.get("text_encoding")
    keys = list(encoding.keys()) if hasattr(encoding, "keys") else None
    return {"keys": [str(k) for k in got], "encoding_keys": keys,
            "encoding": {k: encoding[k] for k in ("input_ids", "attention_mask") if keys and k in keys},
            "labels": got.get("label_encoding") if is_tensor(got.get("label_encoding"))
            else repr(got.get("label_encoding"))[:200]}


def is_tensor(value):
    import torch

    return torch.is_tensor(value)


def loader(encoded, batch_size):
    """A DataLoader over the grader's encoding whose batches are what the handout's collate_fn returns: a
    BatchEncoding under "text_encoding" and a LongTensor under "label_encoding". Its tensors are those of
    hf_probe.loader, so the grader's own run sees the same batches."""
    import torch
    from torch.utils.data import DataLoader
    from transformers import BatchEncoding

    def batch(rows):
        ids, mask, labels = zip(*rows, strict=True)
        return {"text_encoding": BatchEncoding({"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask)}),
                "label_encoding": torch.LongTensor(labels)}

    rows = list(zip(encoded["input_ids"], encoded["attention_mask"], encoded["labels"], strict=True))
    return DataLoader(rows, batch_size=batch_size, collate_fn=batch)


def model_for():
    import torch
    from transformers import AutoModelForSequenceClassification

    tiny_hub.install(".", [MODEL])
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(MODEL, num_labels=2)


def train(train_set, epochs, lr, batch_size):
    """train_one_epoch(model, dataloader, optimizer, epoch) for epochs 1..`epochs` with AdamW(lr), the model put in
    eval mode before each (from_pretrained returns it so, and the handout's main evaluates between epochs), its
    training forwards' dropout seeded from their batch (hf_probe.seeded): the calls it made, with ["epoch"] after
    each epoch, and the trained weights, which the grader compares with its own run."""
    import torch

    fn = student().train_one_epoch
    rec = Recorder()
    with rec.patched():
        model = model_for()
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        data = loader(train_set, batch_size)
        rec.watch(model)
        seeded(model)
        for epoch in range(1, epochs + 1):
            model.eval()
            args, kwargs, problem = interface(fn, (model, data, optimizer, epoch),
                                              {"model": model, "dataloader": data, "optimizer": optimizer,
                                               "epoch": epoch})
            if problem:
                return {"interface": problem}
            fn(*args, **kwargs)
            rec.events.append(["epoch"])
    return {"events": rec.events, "batches": len(data), "weights": weights(model), "cuda": rec.cuda}


def accuracy(predictions, labels):
    """The handout's compute_accuracy, so that evaluate is judged apart from the student's."""
    return float((predictions == labels).double().mean())


def returned(value):
    """What evaluate returned: a number, or the items of a tuple (some hand-ins return (accuracy, loss))."""
    if isinstance(value, (tuple, list)) and value:
        return [scalar(v) for v in value[:4]]
    return scalar(value)


def evaluate(encoded, decoys, head):
    """The student's evaluate on a model left in train mode with dropout 0.5 and the grader's classifier `head`,
    once per list of labels in `decoys`: what it returned each time and how each forward ran. The grader computes
    the accuracies itself."""
    mod = student()
    fn, own = mod.evaluate, getattr(mod, "compute_accuracy", None)
    rec = Recorder()
    out = []
    mod.compute_accuracy = accuracy
    try:
        with rec.patched():
            model = with_dropout(set_classifier(model_for(), head), 0.5)
            rec.watch(model)
            for labels in decoys:
                model.train()
                data = loader({**encoded, "labels": labels}, 8)
                args, kwargs, problem = interface(fn, (model, data), {"model": model, "dataloader": data})
                if problem:
                    return {"interface": problem}
                out.append(returned(fn(*args, **kwargs)))
    finally:
        mod.compute_accuracy = own  # the compute_accuracy check calls the student's
    return {"returned": out, "events": rec.events, "cuda": rec.cuda}
