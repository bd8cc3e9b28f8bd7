"""Checks of A2S3.py: fine-tuning RoBERTa on SST-2 with Hugging Face, on the Winter 2024 handout's interface.

The handout (its notebook, exported to A2S3.py) has the student complete SST2Dataset (__len__, __getitem__,
__iter__ and the static collate_fn), train_one_epoch(model, dataloader, optimizer, epoch), evaluate(model,
dataloader) -> accuracy and compute_accuracy(predictions, labels). The student's code runs in the sandbox on a tiny
checkpoint under the name "roberta-base" (graders/checks/hf/tiny_hub.py) and raw records the grader made in
SST-2's shape (graders/checks/hf/data.py); given/a2s3_harness.py calls it. Points come from what the grader
computes: the dataset's items and the collated encoding against the grader's own, the trained weights against the
grader's run of the handout's loop, accuracies on labels that never enter the sandbox. The harness's log of calls
only names the bug. transformers is imported only when an A2S3 check runs, so grading A2S1 and A2S2 never pays
for it.
"""
import functools

import torch

from graders.checks.compare import require_tensor
from graders.checks.feedback import fail
from graders.checks.hf import data, hf_probe, rerun, steps, tiny_hub

# These checks ship in the student kit: they compare with the grader's own runs (no reference code), and need
# transformers there as here (the kit's requirements-hf.txt).
__all__ = ["test_a2s3_dataset", "test_a2s3_collate_fn", "test_a2s3_train_one_epoch", "test_a2s3_evaluate",
           "test_a2s3_compute_accuracy"]
MODEL = "roberta-base"
MAX_LENGTH = 512          # the handout's collate_fn: padding=True, max_length=512, truncation=True
LONG = 600                # words in one collated text, so that truncation at MAX_LENGTH shows
TRAIN, DEV, BATCH, EPOCHS, LR = 64, 32, 8, 2, 3e-3


def records(n, seed, words=(4, 30)):
    """n raw records {"text", "label"} in SST-2's shape: synthetic sentences whose label is whether they say "yes"."""
    return [{"text": r["question"] + " " + r["passage"], "label": int(r["answer"])}
            for r in data.boolq(n, seed, words)]


def tokenizer():
    return rerun.tokenizer(MODEL)


def handout_encoding(texts):
    """What the handout's collate_fn tokenizes a batch into."""
    return tokenizer()(texts, padding=True, max_length=MAX_LENGTH, truncation=True, return_tensors="pt")


@functools.cache
def encoded(n, seed):
    """The grader's encoding of n records (one batch of all of them, padded to the longest): what the harness's
    data loaders hold."""
    rs = records(n, seed)
    enc = handout_encoding([r["text"] for r in rs])
    return {"input_ids": enc["input_ids"].tolist(), "attention_mask": enc["attention_mask"].tolist(),
            "labels": [r["label"] for r in rs]}


def require(submission, *names):
    """The student's names must exist (an interface error otherwise), checked before the grader builds inputs with
    transformers: a submission without A2S3.py never pays for importing it."""
    for name in names:
        submission.module("A2S3.py")._require(name)


def harness(submission, task, *args, what):
    """Run the harness's `task`; an interface problem it reports (a changed signature, a wrong return) costs this
    check only."""
    return steps.run(submission, "A2S3.py", "a2s3_harness", task, args, what, MODEL)


def test_a2s3_dataset(submission):
    """len, indexing and iteration of SST2Dataset over records the grader made: each must give the handout's
    SST2Example of each record, in order."""
    require(submission, "SST2Dataset")
    rs = records(7, 5)
    indices = [0, 3, 6, -1]
    got = harness(submission, "dataset", rs, indices, what=f"SST2Dataset(tokenizer, {len(rs)} records)")
    case = f"{len(rs)} records {{'text', 'label'}}"
    if got["length"] != len(rs):
        fail(f"len(dataset) is {got['length']!r}, expected {len(rs)}", case,
             ["__len__ returns the number of samples in sample_list"])
    for i, item in zip(indices, steps.results(got, "items", len(indices)), strict=True):
        if item != rs[i]:
            fail(f"dataset[{i}] is {describe(item)}, expected SST2Example{tuple(rs[i].values())}", case,
                 ["__getitem__ returns the idx-th SST2Example of sample_list"])
    iterated = got["iterated"] if isinstance(got.get("iterated"), list) else []
    if iterated != rs:
        fail(f"iterating the dataset gave {len(iterated)} items"
             + (f", the first {describe(iterated[0])}" if iterated else "")
             + f"; expected the {len(rs)} SST2Examples in order", case,
             ["__iter__ returns an iterator over sample_list (the handout's next(iter(dataset_dev)) uses it)"])


def describe(item):
    if isinstance(item, dict) and "text" in item:
        return f"SST2Example({item['text']!r}, {item['label']!r})"
    return f"a {item.get('type')} ({item.get('repr')})" if isinstance(item, dict) else repr(item)


def test_a2s3_collate_fn(submission):
    """collate_fn on two batches of the handout's SST2Examples, short texts (padding shows) and one text longer than
    max_length (truncation shows): the handout's keys, the tokenizer's encoding as the handout calls it
    (padding=True, max_length=512, truncation=True, tensors), and the labels as a LongTensor in the batch's order."""
    require(submission, "SST2Dataset")
    for rs in (records(6, 6), records(2, 7) + [{"text": " ".join(["river"] * LONG), "label": 1}]):
        got = harness(submission, "collate", rs, what=f"SST2Dataset.collate_fn({len(rs)} SST2Examples)")
        expect_collated(got, rs, f"{len(rs)} examples of {min(len(r['text'].split()) for r in rs)} to "
                                 f"{max(len(r['text'].split()) for r in rs)} words")


def expect_collated(got, rs, case):
    if sorted(got.get("keys") or []) != ["label_encoding", "text_encoding"]:
        fail(f"collate_fn returned the keys {got.get('keys')}, expected 'text_encoding' and 'label_encoding'", case)
    want = handout_encoding([r["text"] for r in rs])
    for key in ("input_ids", "attention_mask"):
        value = (got.get("encoding") or {}).get(key)
        if value is None:
            fail(f"text_encoding has no {key} (its keys: {got.get('encoding_keys')})", case,
                 ["text_encoding is the tokenizer's output for the batch's texts"])
        t = require_tensor(value, f"text_encoding['{key}']")
        if not torch.equal(t, want[key]):
            fail(f"text_encoding['{key}'] has shape {tuple(t.shape)}, expected {tuple(want[key].shape)} equal to the "
                 "tokenizer's encoding of the batch's texts", case, bug=encoding_bug(t, want[key]))
    labels = got.get("labels")
    expected = torch.tensor([r["label"] for r in rs])
    if not torch.is_tensor(labels):
        fail(f"label_encoding is {labels}, not a tensor", case, bug="the labels are not converted to a tensor: use "
                                                                     "torch.LongTensor(batched_label)")
    if labels.dtype != torch.long:
        fail(f"label_encoding has dtype {labels.dtype}, expected torch.int64", case,
             bug="the labels are not torch.long: the model's cross-entropy needs class indices (torch.LongTensor)")
    if not torch.equal(labels, expected):
        fail(f"label_encoding is {labels.tolist()}, expected {expected.tolist()}", case,
             ["the labels follow the batch's order"])


def encoding_bug(got, want):
    """What a changed tokenizer call looks like: padded to max_length, or not truncated."""
    if got.dim() == 2 and got.shape[1] == MAX_LENGTH and want.shape[1] < MAX_LENGTH:
        return "padded to max_length (padding='max_length'); the handout pads to the longest text (padding=True)"
    if got.dim() == 2 and got.shape[1] > MAX_LENGTH:
        return "not truncated: the handout's truncation=True cuts texts at max_length=512"
    return None


def test_a2s3_train_one_epoch(submission):
    """The weights train_one_epoch leaves after EPOCHS epochs (the model put in eval mode before each, as the handout's
    main leaves it after evaluating) against the grader's own run of the handout's loop from the same model on the
    same batches. The harness's log of calls only names the bug."""
    require(submission, "train_one_epoch")
    got = harness(submission, "train", encoded(TRAIN, 1), EPOCHS, LR, BATCH,
                  what=f"train_one_epoch(model, dataloader, AdamW(lr={LR}), epoch) for epochs 1 to {EPOCHS}")
    case = f"{TRAIN} synthetic sentences in batches of {BATCH}, {EPOCHS} epochs, AdamW lr {LR}"
    model = rerun.classifier(MODEL)
    _, noise = rerun.train(model, encoded(TRAIN, 1), BATCH, EPOCHS, torch.optim.AdamW(model.parameters(), lr=LR))
    wrong = rerun.differing(got["weights"], model.state_dict(), rerun.classifier(MODEL).state_dict(), noise)
    if wrong:
        fail(f"after {EPOCHS} epochs of train_one_epoch the weights differ from the handout's loop on the same "
             f"batches ({len(wrong)} tensors, e.g. {wrong[0]})", case,
             bug=steps.diagnosis(lambda: steps.training_bug([e for e in got["events"] if e[0] != "epoch"],
                                                            got["batches"] * EPOCHS, scheduler=False)))


def test_a2s3_evaluate(submission):
    """evaluate's accuracies on labels drawn from a secret of this grading, against the accuracies of the grader's
    own copy of the model (its classifier the grader's, split between the labels) in eval mode: dropout (0.5 in the
    model handed over) shows as accuracies that differ. evaluate runs with the handout's compute_accuracy, so it is
    judged apart from the student's. Autograd cannot be seen from outside the sandbox: the harness's log of it is
    a note, not a verdict."""
    require(submission, "evaluate")
    dev = {k: v for k, v in encoded(DEV, 2).items() if k != "labels"}
    model = rerun.classifier(MODEL)
    head = rerun.split_head(lambda h: rerun.logits(hf_probe.set_classifier(model, h), dev), tiny_hub.HIDDEN)
    out = rerun.logits(hf_probe.set_classifier(model, head), dev)
    decoys = rerun.decoys(DEV, 3, out)
    got = harness(submission, "evaluate", dev, decoys, head, what="evaluate(model, dataloader)")
    case = f"{DEV} sentences in batches of 8, a model left in train mode with dropout 0.5"
    bug = steps.diagnosis(lambda: steps.evaluation_bug(got["events"]))
    values = steps.results(got, "returned", len(decoys))
    if any(isinstance(v, list) for v in values):
        submission.note("evaluate returns a tuple; the handout's returns the accuracy alone: its first item was graded")
    for labels, value in zip(decoys, values, strict=True):
        value = value[0] if isinstance(value, list) else value
        bounds = rerun.accuracy_range(out, labels)
        if not rerun.within(value, bounds):
            fail(f"evaluate returned {value!r}; the model's accuracy on these batches is {bounds[0]:g}", case,
                 ["Return the fraction of correct argmax predictions, a number from 0 to 1"],
                 bug=bug if bug == steps.NO_EVAL else None)
    if bug == steps.NO_NO_GRAD:
        submission.note(f"{steps.NO_NO_GRAD}: it costs memory and time (not graded)")


# (predictions, labels) as evaluate hands them over: float tensors of class indices.
ACCURACY_CASES = [([1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 0, 1, 1, 1]), ([0, 1, 1], [0, 1, 1]), ([1, 1], [0, 0])]


def test_a2s3_compute_accuracy(submission):
    """compute_accuracy on predictions and labels as evaluate builds them (torch.Tensor of class indices): the
    fraction of equal entries, as a number (a one-element tensor counts)."""
    require(submission, "compute_accuracy")
    fn = submission.module("A2S3.py").compute_accuracy
    for predictions, labels in ACCURACY_CASES:
        case = f"predictions {predictions}, labels {labels}"
        right = sum(p == t for p, t in zip(predictions, labels, strict=True))
        want = right / len(labels)
        value = hf_probe.scalar(fn(torch.Tensor(predictions), torch.Tensor(labels)))
        if not isinstance(value, float) or abs(value - want) > 1e-6:
            fail(f"compute_accuracy returned {value!r}, expected {want:g}", case,
                 bug=accuracy_bug(value, right, labels))


def accuracy_bug(value, right, labels):
    if value == right and right != right / len(labels):
        return "the number of correct predictions, not their fraction: divide by the number of labels"
    if isinstance(value, float) and abs(value - 100 * right / len(labels)) < 1e-4:
        return "a percentage: the handout's accuracy is a fraction from 0 to 1"
    return None

