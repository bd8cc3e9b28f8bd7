"""The grader's side of A2S3 inside the sandbox: builds the objects A2S3's functions take (a tiny checkpoint
from tiny_hub, an AdamW optimizer, data loaders over the grader's encodings), calls the student's functions and
records what they did (hf_probe.Recorder). Everything returned is plain data; the grader scores it
(graders/assignments/uw_cse447_a2/test_a2s3.py)."""
import sys

import tiny_hub
from hf_probe import Recorder, interface, loader, scalar, seeded, set_classifier, weights, with_dropout

MODULE = "A2S3"


def holds(model, name):
    """Whether the model's encoder holds checkpoint `name`'s weights (from_pretrained), not fresh ones (a model
    built from the config): every weight of the checkpoint's encoder but the pooler, which a classification model
    may drop. Another architecture loaded from it (its embeddings alone match by name) does not hold it."""
    import torch
    from transformers import AutoModel

    fresh, mine = AutoModel.from_pretrained(name).state_dict(), model.base_model.state_dict()
    return all(k in mine and mine[k].shape == v.shape and torch.equal(mine[k], v) for k, v in fresh.items()
               if not k.startswith("pooler."))


def describe(got, name, num_labels):
    """What load_model returned, as plain data: the tuple's length, which item is the tokenizer and which the
    model, whether the tokenizer encodes as the named checkpoint's, the model's type, label count, whether its
    logits have one column per label and whether it holds the checkpoint's weights; for a model of another type,
    the installed checkpoint whose weights it holds, if any (a load_model that loads a fixed name)."""
    import torch
    from transformers import AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

    if not isinstance(got, tuple):
        return {"returned": type(got).__name__}
    if len(got) != 2:
        return {"returned": f"a {len(got)}-tuple"}
    tok, model = got
    out = {"returned": "a 2-tuple", "tokenizer": isinstance(tok, PreTrainedTokenizerBase),
           "model": isinstance(model, PreTrainedModel), "swapped": isinstance(tok, PreTrainedModel)}
    if not out["tokenizer"] or not out["model"]:
        return out
    ids = tok(["the river is blue"], return_tensors="pt")["input_ids"]
    # the named checkpoint's tokenizer encodes the same (any class that reads its vocabulary does)
    same = ids.tolist() == AutoTokenizer.from_pretrained(name)(["the river is blue"])["input_ids"]
    kind = type(model).config_class.model_type or model.config.model_type  # the class's: a DistilBert* class keeps
    # the config it was loaded with
    out.update(model_type=kind, named_tokenizer=same, tokenizer_class=type(tok).__name__)
    if kind != tiny_hub.MODELS[name]:  # another architecture than the one named
        out["holds"] = next((n for n, k in tiny_hub.MODELS.items() if k == kind and holds(model, n)), None)
        return out
    with torch.no_grad():
        logits = getattr(model.eval()(input_ids=ids), "logits", None)
    out.update(num_labels=model.config.num_labels, logits=list(logits.shape) if logits is not None else None,
               pretrained=holds(model, name))
    return out


def load(name, num_labels):
    """What the student's load_model(name, num_labels) returned (describe); every tiny checkpoint is installed, so
    code that loads another name than it was given loads it, and the grader names that."""
    tiny_hub.install(".")
    fn = sys.modules[MODULE].load_model
    rec = Recorder()
    with rec.patched():
        args, kwargs, problem = interface(fn, (name, num_labels), {"model_name": name, "num_labels": num_labels})
        if problem:
            return {"interface": problem}
        got = describe(fn(*args, **kwargs), name, num_labels)
    return {**got, "cuda": rec.cuda}


def encode(name, texts, max_length):
    """The student's tokenize on the tiny checkpoint's tokenizer: its input_ids and attention_mask."""
    from transformers import AutoTokenizer

    tiny_hub.install(".", [name])
    fn = sys.modules[MODULE].tokenize
    tok = AutoTokenizer.from_pretrained(name)
    args, kwargs, problem = interface(fn, (tok, texts, max_length),
                                      {"tokenizer": tok, "texts": texts, "max_length": max_length})
    if problem:
        return {"interface": problem}
    got = fn(*args, **kwargs)
    try:
        return {"input_ids": got["input_ids"], "attention_mask": got["attention_mask"]}
    except (KeyError, TypeError, IndexError):
        return {"interface": f"tokenize returned {type(got).__name__}, not the tokenizer's encoding "
                             "(a BatchEncoding with input_ids and attention_mask)"}


def model_for(name):
    import torch
    from transformers import AutoModelForSequenceClassification

    tiny_hub.install(".", [name])
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(name, num_labels=2)


def train(name, train_set, epochs, lr, batch_size):
    """train_epoch `epochs` times with AdamW(lr) on a model left in eval mode (as from_pretrained returns it), its
    training forwards' dropout seeded from their batch (hf_probe.seeded): the calls it made, with ["epoch"] after
    each, what each epoch returned, and the trained weights, which the grader compares with its own run."""
    import torch

    fn = sys.modules[MODULE].train_epoch
    rec = Recorder()
    returned = []
    with rec.patched():
        model = model_for(name)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        data = loader(train_set, batch_size)
        rec.watch(model)
        seeded(model)
        args, kwargs, problem = interface(fn, (model, data, optimizer, "cpu"),
                                          {"model": model, "dataloader": data, "optimizer": optimizer, "device": "cpu"})
        if problem:
            return {"interface": problem}
        for _ in range(epochs):
            value = fn(*args, **kwargs)
            returned.append(scalar(value))
            rec.events.append(["epoch"])
    return {"events": rec.events, "returned": returned, "batches": len(data), "weights": weights(model),
            "cuda": rec.cuda}


def evaluate(name, encoded, decoys, head):
    """The student's evaluate on a model left in train mode with dropout 0.5 and the grader's classifier `head`, once
    per list of labels in `decoys`: what it returned each time and how each forward ran. The grader computes the
    accuracies itself."""
    fn = sys.modules[MODULE].evaluate
    rec = Recorder()
    returned = []
    with rec.patched():
        model = with_dropout(set_classifier(model_for(name), head), 0.5)
        rec.watch(model)
        for labels in decoys:
            model.train()
            data = loader({**encoded, "labels": labels}, 8)
            args, kwargs, problem = interface(fn, (model, data, "cpu"), {"model": model, "dataloader": data,
                                                                           "device": "cpu"})
            if problem:
                return {"interface": problem}
            returned.append(scalar(fn(*args, **kwargs)))
    return {"returned": returned, "events": rec.events, "cuda": rec.cuda}
