"""Checks of JHU CS601 hw6 (base_classification.py, classification.py).

The student's code runs in the sandbox on tiny checkpoints named like the hub's (tiny_hub) and synthetic yes/no
questions (graders/checks/hf/data.py); the harness (given/hw6_harness.py) records what it did and the
grader scores that here: the order of calls in a training step, the mode and autograd state of each forward,
which parameters training changed (so `head`, `prefix` and `lora` are judged by behaviour, whether the student
froze parameters or gave the optimizer a subset), and logits against the reference on the same weights.

LoRA is an extension: the 2024 handout's types are auto, full, head and prefix. Its checks grade a
classification.py that takes LoRA up (it names LoRA or peft), through peft or written by hand; one that never
mentions it passes them with a note, unless the spec's options set `lora_required`.
"""
import functools
import re

import torch

from graders.checks.compare import expect_close, matches, require_tensor
from graders.checks.feedback import fail
from graders.checks.hf import data, hf_probe, rerun, steps, tiny_hub
from graders.problems import InterfaceError
from graders_packs.jhu_cs601_hw6 import reference as ref

try:
    import transformers  # noqa: F401 - the grader builds the tiny checkpoints too
except ImportError as e:
    raise RuntimeError("grading jhu-cs601-hw6 needs transformers: pip install 'graders[hf]'") from e

# These checks ship in the student kit (which then needs transformers): the reference is called in plain data
# (reference.py), so the kit replays it; the LoRA training check stays in the autograder (lora.py says why).
__all__ = ["test_base_evaluate", "test_custom_evaluate", "test_base_train_step", "test_custom_train_step",
           "test_base_train_learns", "test_head_trainable", "test_prefix_trainable", "test_full_forward",
           "test_prefix_forward", "test_dataset_encoding", "test_lora_forward"]

MODEL = "bert-base-uncased"
MAX_LEN = 16
PREFIX = 3                     # prefix_length: differs from num_labels, so shapes tell prefix and classifier apart
D = tiny_hub.HIDDEN
# Training: 64 questions in batches of 8 for 4 epochs. The handout's scheduler warms up over 50 steps, so the
# learning rate reaches 32/50 of lr; lr 0.01 lets the tiny model learn the task in those 32 steps.
TRAIN, DEV, BATCH, EPOCHS, LR = 64, 32, 8, 4, 1e-2
LEARNED = 0.9                  # the reference reaches 1.0 on the dev questions; chance is 0.5
POOLING_BUGS = {  # the named bug and its pooling, by its name in the reference
    "max pooling instead of the mean over the sequence": "max",
    "the first ([CLS]) position instead of the mean over the sequence": "cls",
    "the sum over the sequence instead of the mean": "sum",
}


def checkpoint():
    return rerun.checkpoint(MODEL)


@functools.cache
def encoded(n, seed):
    """The grader's encoding of n synthetic questions: what the harness's data loaders hold."""
    records = data.boolq(n, seed)
    ids, masks = zip(*(ref.encode(MODEL, r["question"], r["passage"], MAX_LEN) for r in records), strict=True)
    return {"input_ids": torch.stack(ids).tolist(), "attention_mask": torch.stack(masks).tolist(),
            "labels": [int(r["answer"]) for r in records]}


def harness(submission, file, task, *args, what):
    """Run the harness's `task` on the student's `file`; the names it needs must exist (an interface error
    otherwise), and an interface problem the harness reports (a changed signature) costs this check only."""
    module = submission.module(file)
    needs = {"train": ["train"], "evaluate": ["evaluate_model"], "encode": ["BoolQADataset"]}.get(task, [])
    if file == "classification.py" and task != "encode":
        needs.append("CustomModelforSequenceClassification")
    for name in needs:
        module._require(name)
    return steps.run(submission, file, "hw6_harness", task, (submission.spec.source(file).module, *args), what, MODEL)


def spec_of(kind):
    return {"model": MODEL, "type": kind, "prefix_length": PREFIX}


# Evaluation

def unlabelled(n, seed):
    return {k: v for k, v in encoded(n, seed).items() if k != "labels"}


def secret_start(kind):
    """The custom model's own parameters drawn from a secret of this grading, which the harness gives it: the
    classifier, for `prefix` the prefix, and for `lora` the seed of the adapters' start (hf_probe.adapter_start).
    A student kit draws them from a fixed seed of its own (rerun.secret): its runs from there are the recorded ones."""
    draw = torch.Generator().manual_seed(rerun.secret(f"start:{kind}"))
    start = {"weight": torch.randn(2, D, generator=draw), "bias": torch.randn(2, generator=draw)}
    if kind == "prefix":
        start["prefix"] = torch.randn(PREFIX, D, generator=draw)
    adapters = {"adapters": int(torch.randint(2 ** 62, (), generator=draw))} if kind == "lora" else {}
    return {**{k: v.tolist() for k, v in start.items()}, **adapters}


def classify(features, weight, bias):
    """The logits a Linear(d, 2) classifier of `weight` and `bias` (tensors or lists) gives the pooled `features`."""
    return torch.nn.functional.linear(features, torch.as_tensor(weight, dtype=features.dtype),
                                      torch.as_tensor(bias, dtype=features.dtype))


def evaluation_logits(kind, dev):
    """logits(head): what the model the harness hands evaluate_model computes with classifier `head`, computed by
    the grader: the auto model drawn as the harness draws it, or the handout's custom model (the mean of the
    checkpoint's last hidden state)."""
    if kind == "auto":
        model = rerun.classifier(MODEL)
        return lambda head: rerun.logits(hf_probe.set_classifier(model, head), dev)
    features = ref.features(MODEL, torch.tensor(dev["input_ids"]), torch.tensor(dev["attention_mask"]))
    return lambda head: classify(features, head["weight"], head["bias"])


def expect_evaluation(submission, file, kind):
    """evaluate_model's accuracies on labels drawn from a secret of this grading, against what the grader's own
    copy of the model (its classifier the grader's, split between the labels) predicts in eval mode: dropout (0.5
    in the model handed over) shows as accuracies that differ. The custom file's evaluate_model gets the handout's
    custom model, so it is judged apart from the student's forward. Autograd cannot be seen from outside the
    sandbox, and the handout gives evaluate_model's no_grad: the harness's log of it is a note, not a verdict."""
    dev = unlabelled(DEV, 2)
    logits_with = evaluation_logits(kind, dev)
    head = rerun.split_head(logits_with, D)
    out = logits_with(head)
    decoys = rerun.decoys(DEV, 3, out)
    got = harness(submission, file, "evaluate", spec_of(kind), dev, decoys, head,
                  what="evaluate_model(model, dataloader, 'cpu')")
    case = f"{DEV} questions in batches of 8, a model left in train mode with dropout 0.5"
    bug = steps.diagnosis(lambda: steps.evaluation_bug(got["events"]))
    for labels, returned in zip(decoys, steps.results(got, "returned", len(decoys)), strict=True):
        bounds = rerun.accuracy_range(out, labels)
        if not rerun.within(returned.get("accuracy") if isinstance(returned, dict) else returned, bounds):
            fail(f"evaluate_model returned {returned!r}; the model's accuracy on the batches is {bounds[0]:g}", case,
                 ["Return dev_accuracy.compute() (a dict with 'accuracy'), as the handout does, or the accuracy "
                  "as a number"], bug=bug if bug == steps.NO_EVAL else None)
    if bug == steps.NO_NO_GRAD:
        submission.note(f"{steps.NO_NO_GRAD}: it costs memory and time (not graded)")


def test_base_evaluate(submission):
    expect_evaluation(submission, "base_classification.py", "auto")


def test_custom_evaluate(submission):
    expect_evaluation(submission, "classification.py", "full")


# Training

def run_training(submission, file, kind, epochs=EPOCHS, n=TRAIN, start=None):
    dev = {**unlabelled(DEV, 2), "labels": rerun.decoys(DEV, 1)[0]}
    return harness(submission, file, "train", spec_of(kind), encoded(n, 1), dev, epochs, LR, BATCH, start,
                   what=f"train(model of type {kind!r}, num_epochs={epochs}, lr={LR})")


def handout_training(epochs, n):
    """The grader's run of the handout's loop on the auto model: AdamW(lr) with the linear schedule that warms up
    over 50 steps, stepped with every batch. Returns (trained model, its starting state, rerun.Gradients' noise)."""
    from transformers import get_scheduler

    model = rerun.classifier(MODEL)
    start = rerun.snapshot(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    batches = -(-n // BATCH) * epochs
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50, num_training_steps=batches)
    return model, start, rerun.train(model, encoded(n, 1), BATCH, epochs, optimizer, scheduler)[1]


def training_bug(got, epochs):
    return steps.diagnosis(lambda: steps.training_bug(got["events"], got["batches"] * epochs))


def test_base_train_step(submission):
    """The weights train leaves after 2 epochs against the grader's run of the handout's loop from the same model
    on the same batches; the harness's log of calls names the bug."""
    got = run_training(submission, "base_classification.py", "auto", epochs=2, n=2 * BATCH)
    model, start, noise = handout_training(2, 2 * BATCH)
    wrong = rerun.differing(got["weights"], model.state_dict(), start, noise)
    if wrong:
        fail(f"after training, the weights differ from the handout's loop on the same batches ({len(wrong)} tensors, "
             f"e.g. {wrong[0]})", f"{2 * BATCH} questions in batches of {BATCH}, 2 epochs", bug=training_bug(got, 2))


def test_custom_train_step(submission):
    """The custom model's weights after 2 epochs against the grader's runs of the handout's loop (full tuning)."""
    case = f"{2 * BATCH} questions in batches of {BATCH}, 2 epochs, the model's classifier set by the grader"
    got, start = custom_training(submission, "full", epochs=2)
    if not any(matches_run(got, start, run) for run in custom_runs("full", start, epochs=2)):
        fail("after training, the weights differ from the handout's loop on the same batches (AdamW, the linear "
             "warmup schedule, with or without weight decay on biases and LayerNorm)", case,
             bug=training_bug(got, 2))


def test_base_train_learns(submission):
    """The trained weights, loaded into the grader's own model, answer held-out questions whose labels never
    enter the sandbox."""
    got = run_training(submission, "base_classification.py", "auto")
    dev = encoded(DEV, 2)
    acc = rerun.accuracy(rerun.load(rerun.classifier(MODEL), got["weights"]), dev, dev["labels"])
    if acc < LEARNED:
        fail(f"after training, the model answers {acc:.0%} of held-out questions; at least {LEARNED:.0%} expected",
             f"{TRAIN} synthetic yes/no questions, {EPOCHS} epochs, lr {LR}", bug=training_bug(got, EPOCHS))


# Parameter counts

def custom_training(submission, kind, epochs=1):
    """The student's train of the custom model of type `kind` from the grader's secret start, without dropout:
    (what the harness sent back, the start)."""
    start = secret_start(kind)
    return run_training(submission, "classification.py", kind, epochs=epochs, n=2 * BATCH, start=start), start


def custom_runs(kind, start, epochs=1, forward_bugs=True, train=None):
    """The grader's own runs of the custom model's training from `start`, one at a time, as reference.run's plain
    data: each reading of the handout's pooling and prefix, AdamW with weight decay 0.01 on every parameter or not
    on biases and LayerNorm (the handout's groups), the lr constant or on the linear warmup; the forward bugs the
    forward checks name last (unless not `forward_bugs`), so training is judged on the forward the student wrote.
    `train(reading, grouped, scheduled)` runs one (LoRA's, lora.py); by default the reference's on the checkpoint."""
    right, bugs = readings(kind)
    train = train or functools.partial(checkpoint_run, kind, start, epochs)
    for reading in right + [kw for _, kw in bugs if forward_bugs]:
        for grouped in (kind == "full", kind != "full"):
            for scheduled in (kind == "full", kind != "full"):
                yield train(reading, grouped, scheduled)


def checkpoint_run(kind, start, epochs, reading, grouped, scheduled):
    """reference.train's run on the checkpoint itself, its states whole: the checkpoint's, with what training
    changed."""
    found = ref.train(MODEL, kind, start, encoded(2 * BATCH, 1), BATCH, epochs, LR, reading, grouped, scheduled)
    before = checkpoint().state_dict()
    return {**found, "inner": {**before, **found["inner"]}, "before": before}


def own(got, shape):
    """The returned parameter of the custom model's own (outside the checkpoint) with `shape`, or None."""
    found = [t for t in steps.diagnosis(lambda: list(got["own"].values())) or []
             if torch.is_tensor(t) and tuple(t.shape) == shape]
    return found[0] if found else None


def matches_run(got, start, run):
    """Whether the returned weights (the checkpoint's model, the classifier, the prefix) are those of `run`."""
    if rerun.differing(got.get("inner"), run["inner"], run["before"], run["noise"]):
        return False
    pairs = [((2, D), run["weight"], "weight"), ((2,), run["bias"], "bias")]
    pairs += [((PREFIX, D), run["prefix"], "prefix")] if run["prefix"] is not None else []
    for shape, want, key in pairs:
        t = own(got, shape)
        want = want.detach().double()
        scale = (want - torch.tensor(start[key]).double()).abs().max()
        if t is None or (t.double() - want).abs().max() > rerun.UPDATE_RTOL * scale + rerun.ATOL:
            return False
    return True


def moved(got, start):
    """[(name, size)] of the returned tensors that differ from where they started: the checkpoint's (the grader's
    own copy) and the model's own parameters (the grader's start, or the harness's `own_before`)."""
    inner = [(n, t.numel()) for n, t in checkpoint().state_dict().items()
             if not (torch.is_tensor(got["inner"].get(n)) and torch.equal(got["inner"][n], t))]
    starts = {tuple(torch.tensor(v).shape): torch.tensor(v) for v in start.values()}
    outside = [(n, t.numel()) for n, t in got["own"].items() if torch.is_tensor(t) and not torch.equal(
        t, starts.get(tuple(t.shape), got["own_before"].get(n)))]
    return inner + outside


def expect_trainable(submission, kind, parts):
    """The weights one epoch leaves against the grader's runs in which only `parts` train; the counts of what
    moved name the bug, or else the log of calls."""
    got, start = custom_training(submission, kind)
    if any(matches_run(got, start, run) for run in custom_runs(kind, start)):
        return
    changed = steps.diagnosis(lambda: moved(got, start)) or []
    count = sum(size for _, size in changed)
    bug = None
    if count > ref.trainable(D, prefix_length=PREFIX):  # more than classifier and prefix: the checkpoint trains
        bug = f"all parameters trainable in `{kind}`: only {parts} may change"
    elif kind == "prefix" and count == ref.trainable(D):
        bug = "the prefix is not trained: give the optimizer mymodel.prefix as well as the classifier"
    elif count == 0:
        bug = "training changed no parameter"
    else:  # the right parameters moved, by other steps: the call log names why (two optimizers stepped, ...)
        bug = training_bug(got, 1)
    names = ", ".join(n for n, _ in changed[:6]) + (", ..." if len(changed) > 6 else "") or "none"
    fail(f"training with type={kind!r} changed {count} parameters, not as the handout's loop training only {parts} "
         "does", f"hidden size d={D}, prefix_length l={PREFIX}, 2 labels, the classifier and prefix set by the grader",
         [f"Changed: {names}"], bug=bug)


def test_head_trainable(submission):
    expect_trainable(submission, "head", f"the classifier's {ref.trainable(D)} parameters")


def test_prefix_trainable(submission):
    expect_trainable(submission, "prefix", f"the classifier and the prefix ({ref.trainable(D, prefix_length=PREFIX)} "
                                           "parameters)")


# Forward

def parameters(got, kind):
    """The classifier's weight and bias and the prefix among the parameters outside the checkpoint, found by shape:
    (2, d) and (2,) for the classifier, (l, d) for the prefix."""
    extra = {n: require_tensor(t, n) for n, t in got["extra"].items()}
    pick = lambda shape: next((t for t in extra.values() if tuple(t.shape) == shape), None)  # noqa: E731
    weight, bias, prefix = pick((2, D)), pick((2,)), pick((PREFIX, D))
    if weight is None or bias is None or (kind == "prefix" and prefix is None):
        shapes = ", ".join(f"{n} {tuple(t.shape)}" for n, t in extra.items()) or "none"
        raise InterfaceError(f"the model's own parameters ({shapes}) lack a Linear(hidden_size, num_labels) "
                             + ("and a prefix of shape (prefix_length, hidden_size)" if kind == "prefix" else ""))
    return weight, bias, prefix if kind == "prefix" else None


def expect_forward(submission, kind, readings, bugs):
    """The student's logits equal the reference's (its features through the student's classifier) under one of
    `readings` (keyword arguments of reference.features: the mean over all positions, as the handout says, or over
    the unmasked ones); `bugs` are (name, kwargs)."""
    dev = encoded(8, 3)
    got = harness(submission, "classification.py", "forward", spec_of(kind), dev,
                  what=f"CustomModelforSequenceClassification({MODEL!r}, num_labels=2, type={kind!r})(input_ids, "
                       "attention_mask)")
    case = f"8 questions padded to {MAX_LEN} tokens, d={D}" + (f", prefix_length={PREFIX}" if kind == "prefix" else "")
    for call in got["inner_calls"] if kind == "prefix" else ():
        mask, shape = call["attention_mask"], call["inputs_embeds"]
        if shape and mask is not None and mask.shape[-1] != shape[1]:
            fail(f"the checkpoint's model got inputs_embeds of length {shape[1]} and an attention mask of length "
                 f"{mask.shape[-1]}", case, bug="the prefix is not added to the attention mask: extend it by "
                                                "prefix_length ones")
    weight, bias, prefix = parameters(got, kind)
    ids, mask = torch.tensor(dev["input_ids"]), torch.tensor(dev["attention_mask"])
    tol = submission.tolerance(torch.float32)
    logits = lambda kw: classify(ref.features(MODEL, ids, mask, prefix, **kw), weight, bias)  # noqa: E731
    expected = [logits(kw) for kw in readings]
    variants = [(name, lambda _, kw=kw: logits(kw)) for name, kw in bugs]
    got_logits = require_tensor(got["logits"], "the forward's logits")
    if any(matches(got_logits, want, tol) for want in expected):
        return
    without = got.get("without_adapters")
    if without is not None and any(matches(require_tensor(without, "the logits"), want, tol) for want in expected):
        fail("before training, the LoRA model's logits differ from the pretrained model's with the same classifier",
             case, ["With the adapters' tensors set to zero, the logits match"], bug=NONZERO_START)
    expect_close(got_logits, expected[0], tol, what="the logits", case=case, bugs=variants)


def readings(kind):
    """(the handout's readings of the forward of `kind`, [(named bug, its reading)]): keyword arguments of
    reference.features, plain data. The mean is over all positions, as the handout says, or over the unmasked
    ones; the prefix goes before or after the input (the handout says to concatenate them)."""
    if kind != "prefix":
        return [{}, {"masked": True}], [(name, {"pool": pool}) for name, pool in POOLING_BUGS.items()]
    right = [{"prefix_first": first, "masked": masked} for first in (True, False) for masked in (False, True)]
    bugs = [(f"{name} (prefix {'before' if first else 'after'} the input)", {"prefix_first": first, "pool": pool})
            for name, pool in POOLING_BUGS.items() for first in (True, False)]
    bugs += [("the prefix's attention-mask entries are 0: the model ignores the prefix",
              {"prefix_first": first, "prefix_mask": 0}) for first in (True, False)]
    bugs += [("the prefix is joined to the output of self.model.embeddings, which adds positions and LayerNorm "
              "that the model adds again to inputs_embeds: join it to self.model.embeddings.word_embeddings",
              {"prefix_first": first, "whole": True})
             for first in (True, False)]
    return right, bugs


def test_full_forward(submission):
    expect_forward(submission, "full", *readings("full"))


def test_prefix_forward(submission):
    expect_forward(submission, "prefix", *readings("prefix"))


# Encoding

def test_dataset_encoding(submission):
    records = data.boolq(6, 4, passage_words=(1, 40))
    got = harness(submission, "classification.py", "encode", MODEL, records, MAX_LEN, list(range(6)),
                  what=f"BoolQADataset(..., tokenizer, max_len={MAX_LEN})[i]")
    case = f"6 questions with passages of 1 to 40 words, max_len={MAX_LEN}"
    if got["length"] != 6:
        fail(f"len(dataset) is {got['length']}, expected 6", case)
    for i, (item, r) in enumerate(zip(got["items"], records, strict=True)):
        if not isinstance(item, dict) or not {"input_ids", "attention_mask", "labels"} <= set(item):
            raise InterfaceError(f"dataset[{i}] is not a dict with input_ids, attention_mask and labels")
        ids, mask = ref.encode(MODEL, r["question"], r["passage"], MAX_LEN)
        got_ids = require_tensor(item["input_ids"], f"dataset[{i}]['input_ids']")
        bug = None
        if got_ids.dim() == 1 and got_ids.shape[0] < MAX_LEN:
            bug = "not padded to max_len: use padding='max_length' so every item has max_len tokens"
        elif got_ids.dim() == 1 and got_ids.shape[0] > MAX_LEN:
            padded = bool((require_tensor(item["attention_mask"], f"dataset[{i}]['attention_mask']") == 0).any())
            bug = (f"padded to {got_ids.shape[0]} tokens, not to max_len: pass max_length=self.max_len" if padded
                   else "not truncated: use truncation=True so long passages are cut at max_len")
        if bug or not torch.equal(got_ids, ids):
            fail(f"dataset[{i}]['input_ids'] has shape {tuple(got_ids.shape)}, expected ({MAX_LEN},) equal to the "
                 "tokenizer's encoding of question + ' [SEP] ' + passage", case, bug=bug)
        if not torch.equal(require_tensor(item["attention_mask"], f"dataset[{i}]['attention_mask']"), mask):
            fail(f"dataset[{i}]['attention_mask'] differs from the tokenizer's", case)
        label = require_tensor(item["labels"], f"dataset[{i}]['labels']")
        if label.dtype != torch.long or label.tolist() != int(r["answer"]):
            fail(f"dataset[{i}]['labels'] is {label.tolist()!r} ({label.dtype}); expected {int(r['answer'])} "
                 "(torch.long), which CrossEntropyLoss needs", case)


# LoRA (its training check: lora.py)

NONZERO_START = ("the LoRA update is not zero before training: initialize B (lora_B) to zeros, as peft does "
                 "(init_lora_weights=True), so fine-tuning starts from the pretrained model")


def takes_up_lora(submission):
    """Whether classification.py's LoRA is graded: it names LoRA or peft, or the offering requires it (then a file
    that never mentions it fails as an interface error). Otherwise the check passes with a note."""
    text = "\n".join(c.text for c in submission.source("classification.py").cells)
    if re.search(r"(?<![a-z])(lora|peft)", text, re.IGNORECASE):  # use_lora, LoRALinear; not "exploration"
        return True
    if submission.spec.options["lora_required"]:
        raise InterfaceError("classification.py never mentions LoRA or peft: CustomModelforSequenceClassification "
                             "must handle type='lora'")
    submission.note("LoRA was not checked: classification.py never mentions LoRA or peft, and this offering's "
                    "handout does not ask for it (the spec's options.lora_required is false)")
    return False


def test_lora_forward(submission):
    if takes_up_lora(submission):
        expect_forward(submission, "lora", *readings("lora"))
