"""Checks of A2S3.py: fine-tuning a pretrained encoder for sentence classification with Hugging Face.

No public A2S3 template was found, so the file follows the course pattern the spec describes (specs/
uw-cse447-a2.yaml): load_model(model_name, num_labels) -> (tokenizer, model), tokenize(tokenizer, texts,
max_length), train_epoch(model, dataloader, optimizer, device) -> mean loss, evaluate(model, dataloader, device) ->
accuracy. The student's code runs in the sandbox on tiny checkpoints named like the hub's (graders/assignments/hf/
tiny_hub.py); given/a2s3_harness.py calls it and records what it did, and the checks here score that. transformers
is imported only when an A2S3 check runs, so grading A2S1 and A2S2 never pays for it.
"""
import functools

import torch

from graders.assignments.hf import data, hf_probe, rerun, steps, tiny_hub
from graders.checks.compare import require_tensor
from graders.checks.feedback import fail
from graders.problems import InterfaceError, StudentError

# The student kit leaves A2S3 to the course autograder: its checks need transformers and the grader-side tiny
# checkpoints, which a kit does not ship.
KIT = "withheld"
__all__ = ["test_a2s3_load_model", "test_a2s3_tokenize", "test_a2s3_train_epoch", "test_a2s3_evaluate"]
MODEL = "distilbert-base-uncased"
OTHER_MODEL = "roberta-base"   # load_model is also tried on it: another architecture and tokenizer
MAX_LEN = 16
TRAIN, DEV, BATCH, EPOCHS, LR = 64, 32, 8, 5, 3e-3


def sentences(n, seed, words=(4, 30)):
    """(texts, labels): synthetic sentences whose label is whether they say "yes" (graders/assignments/hf/data.py)."""
    records = data.boolq(n, seed, words)
    return [r["question"] + " " + r["passage"] for r in records], [int(r["answer"]) for r in records]


def expected_encoding(texts):
    """What tokenize should return: the checkpoint's tokenizer, padded and truncated to MAX_LEN, as tensors."""
    tok = tiny_hub.tokenizer(tiny_hub.MODELS[MODEL])
    return tok(texts, padding="max_length", truncation=True, max_length=MAX_LEN, return_tensors="pt")


@functools.cache
def encoded(n, seed):
    """The grader's encoding of n sentences: what the harness's data loaders hold."""
    texts, labels = sentences(n, seed)
    enc = expected_encoding(texts)
    return {"input_ids": enc["input_ids"].tolist(), "attention_mask": enc["attention_mask"].tolist(), "labels": labels}


def require(submission, fn):
    """The student's `fn` must exist (an interface error otherwise), checked before the grader builds inputs with
    transformers: a submission without A2S3.py never pays for importing it."""
    submission.module("A2S3.py")._require(fn)


def harness(submission, task, *args, what):
    """Run the harness's `task`; an interface problem it reports (a changed signature, a wrong return) costs this
    check only."""
    return steps.run(submission, "A2S3.py", "a2s3_harness", task, args, what, MODEL)


def test_a2s3_load_model(submission):
    """load_model on the handout's DistilBERT, then on RoBERTa, where a load_model that loads a fixed checkpoint
    instead of model_name shows. Code written for one architecture (DistilBert* classes) is right for a handout
    that only uses DistilBERT: on RoBERTa it gets a note, not a failure."""
    require(submission, "load_model")
    expect_loaded(submission, MODEL)
    try:
        expect_loaded(submission, OTHER_MODEL)
    except (StudentError, OneArchitecture) as e:
        submission.note(f"load_model({OTHER_MODEL!r}) was not graded (code written for DistilBERT alone is right "
                        f"for the handout): {e}")


IGNORES_NAME = "load_model ignores model_name: pass it to both from_pretrained calls instead of a fixed checkpoint"


class OneArchitecture(Exception):
    """load_model builds one architecture whatever it is asked (DistilBert* classes), not a fixed checkpoint."""


def expect_loaded(submission, name):
    case = f"load_model({name!r}, num_labels=3)"
    got = harness(submission, "load", name, 3, what=case)
    if got["returned"] != "a 2-tuple":
        raise InterfaceError(f"load_model returned {got['returned']}, expected the 2-tuple (tokenizer, model)")
    if got["swapped"]:
        raise InterfaceError("load_model returned (model, tokenizer); the handout's order is (tokenizer, model)")
    if not got["tokenizer"] or not got["model"]:
        raise InterfaceError("load_model must return a transformers tokenizer and a transformers model")
    other_type = got["model_type"] != tiny_hub.MODELS[name]
    if other_type and not got["holds"] and name == OTHER_MODEL:
        raise OneArchitecture(f"it returned a {got['model_type']} model holding none of the checkpoints")
    if other_type or not got["named_tokenizer"]:
        fixed = got.get("holds") or not got["named_tokenizer"]
        loaded = f"{got['holds']}'s {got['model_type']} model" if got.get("holds") else f"a {got['model_type']} model"
        fail(f"load_model({name!r}) returned {loaded} and a {got['tokenizer_class']} that encodes "
             f"{'as' if got['named_tokenizer'] else 'unlike'} {name}'s", case, bug=IGNORES_NAME if fixed else None)
    if got["logits"] is None:
        fail("the model's output has no logits", case, bug="no classification head: AutoModel gives hidden states; "
                                                          "use AutoModelForSequenceClassification")
    if got["num_labels"] != 3 or got["logits"][-1] != 3:
        fail(f"the model has {got['logits'][-1]} output labels, expected 3", case,
             bug="num_labels is not passed on to from_pretrained")
    if not got["pretrained"]:
        fail("the model's encoder does not hold the checkpoint's weights", case,
             bug="random weights: the model is built from its config, not loaded with from_pretrained")


def test_a2s3_tokenize(submission):
    """Two batches: short texts (padding to max_length shows) and long ones (truncation shows)."""
    require(submission, "tokenize")
    for words in ((1, 6), (20, 40)):
        texts, _ = sentences(6, 4, words)
        got = harness(submission, "encode", MODEL, texts, MAX_LEN,
                      what=f"tokenize(tokenizer, texts, max_length={MAX_LEN})")
        case = f"6 texts of {words[0] + 4} to {words[1] + 4} words, max_length={MAX_LEN}"
        want = expected_encoding(texts)
        ids = require_tensor(got["input_ids"], "tokenize(...)['input_ids']")
        bug = None
        if ids.dim() == 2 and ids.shape[1] < MAX_LEN:
            bug = "padded to the longest text, not to max_length: use padding='max_length'"
        elif ids.dim() == 2 and ids.shape[1] > MAX_LEN:
            padded = bool((require_tensor(got["attention_mask"], "tokenize(...)['attention_mask']") == 0).any())
            bug = (f"padded to {ids.shape[1]} tokens, not to max_length: pass max_length=max_length" if padded
                   else "not truncated: use truncation=True so long texts are cut at max_length")
        if bug or not torch.equal(ids, want["input_ids"]):
            fail(f"input_ids has shape {tuple(ids.shape)}, expected {tuple(want['input_ids'].shape)} equal to the "
                 "tokenizer's encoding", case, bug=bug)
        if not torch.equal(require_tensor(got["attention_mask"], "tokenize(...)['attention_mask']"),
                           want["attention_mask"]):
            fail("attention_mask differs from the tokenizer's", case)


def test_a2s3_train_epoch(submission):
    """The weights train_epoch leaves after EPOCHS epochs, and the losses it returns, against the grader's own run
    of the same epochs from the same model, which learns the task (1.0 on the dev sentences): weights that match
    it learned too. The harness's log of calls only names the bug."""
    require(submission, "train_epoch")
    got = harness(submission, "train", MODEL, encoded(TRAIN, 1), EPOCHS, LR, BATCH,
                  what=f"train_epoch(model, dataloader, AdamW(lr={LR}), 'cpu'), {EPOCHS} times")
    case = f"{TRAIN} synthetic sentences in batches of {BATCH}, {EPOCHS} epochs, AdamW lr {LR}"
    model = rerun.classifier(MODEL)
    losses, noise = rerun.train(model, encoded(TRAIN, 1), BATCH, EPOCHS, torch.optim.AdamW(model.parameters(), lr=LR))
    wrong = rerun.differing(got["weights"], model, rerun.classifier(MODEL).state_dict(), noise)
    if wrong:
        fail(f"after {EPOCHS} epochs of train_epoch the weights differ from the handout's loop on the same batches "
             f"({len(wrong)} tensors, e.g. {wrong[0]})", case,
             bug=steps.diagnosis(lambda: steps.training_bug([e for e in got["events"] if e[0] != "epoch"],
                                                            got["batches"] * EPOCHS, scheduler=False)))
    for k, (batch, value) in enumerate(zip(losses, steps.results(got, "returned", EPOCHS), strict=True)):
        mean = sum(batch) / len(batch)
        if not isinstance(value, float) or abs(value - mean) > 1e-4 * max(1.0, abs(mean)):
            bug = ("the last batch's loss instead of the epoch's mean" if close(value, batch[-1]) else
                   "the sum of the batch losses instead of their mean" if close(value, sum(batch)) else None)
            fail(f"epoch {k + 1}: train_epoch returned {value!r}; the mean of its batch losses is {mean:.6g}", case,
                 bug=bug)


def close(value, want):
    return isinstance(value, float) and abs(value - want) <= 1e-4 * max(1.0, abs(want))


def test_a2s3_evaluate(submission):
    """evaluate's accuracies on labels drawn from a secret of this grading, against the accuracies of the grader's
    own copy of the model (its classifier the grader's, split between the labels) in eval mode: dropout (0.5 in the
    model handed over) shows as accuracies that differ. Autograd cannot be seen from outside the sandbox: the
    harness's log of it is a note, not a verdict."""
    require(submission, "evaluate")
    dev = {k: v for k, v in encoded(DEV, 2).items() if k != "labels"}
    model = rerun.classifier(MODEL)
    head = rerun.split_head(lambda h: rerun.logits(hf_probe.set_classifier(model, h), dev), tiny_hub.HIDDEN)
    out = rerun.logits(hf_probe.set_classifier(model, head), dev)
    decoys = rerun.decoys(DEV, 3)
    got = harness(submission, "evaluate", MODEL, dev, decoys, head, what="evaluate(model, dataloader, 'cpu')")
    case = f"{DEV} sentences in batches of 8, a model left in train mode with dropout 0.5"
    bug = steps.diagnosis(lambda: steps.evaluation_bug(got["events"]))
    for labels, value in zip(decoys, steps.results(got, "returned", len(decoys)), strict=True):
        bounds = rerun.accuracy_range(out, labels)
        if not rerun.within(value, bounds):
            fail(f"evaluate returned {value!r}; the model's accuracy on these batches is {bounds[0]:g}", case,
                 ["Return the fraction of correct argmax predictions, a number from 0 to 1"],
                 bug=bug if bug == steps.NO_EVAL else None)
    if bug == steps.NO_NO_GRAD:
        submission.note(f"{steps.NO_NO_GRAD}: it costs memory and time (not graded)")
