"""The grader's own runs of what a student's fine-tuning code should do, in the grader's process: the model the
harness hands the student (the same tiny checkpoint, the same seed), trained by the handout's loop on the same
batches with the same dropout masks (hf_probe.seeded), and predictions on labels that never enter the sandbox.
Points come from comparing the weights and numbers the student's code returns with these runs; what the harness
records inside the sandbox only names the bug (graders/checks/hf/steps.py)."""
import atexit
import functools
import hashlib
import os
import random
import shutil
import tempfile

import torch

from graders import replay
from graders.checks.compare import require_tensor
from graders.checks.hf import hf_probe, tiny_hub
from graders.problems import StudentError

# Weights after a few AdamW steps agree to ~1e-6 of their update between processes (thread counts differ); a
# missed zero_grad, a step without gradients or a forward in the wrong mode moves them by a good part of it.
UPDATE_RTOL, ATOL = 1e-2, 1e-7


def secret(salt):
    """A 64-bit seed of this grading that the student's code never sees. A student kit draws from seeds of its own,
    one per `salt`, fixed: its expected values are the ones recorded, and its verdicts the same on every run."""
    if replay.KIT:
        return int.from_bytes(hashlib.sha256(f"kit:{salt}".encode()).digest()[:8], "little")
    return int.from_bytes(os.urandom(8), "little")


@functools.cache
def hub():
    """A folder of the grader's own for the tiny checkpoints, for from_pretrained as the harness calls it."""
    path = tempfile.mkdtemp(prefix="graders-hub-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def tokenizer(name):
    """The tokenizer of the tiny checkpoint `name` (a hub name), built once."""
    return tiny_hub.tokenizer(tiny_hub.MODELS[name])


@functools.cache
def checkpoint(name):
    """The base model of the tiny checkpoint `name` (a hub name) in eval mode, built once: copy it to train it."""
    return tiny_hub.model(tiny_hub.MODELS[name])


def snapshot(model):
    """A copy of `model`'s state (name -> tensor): where a run starts from."""
    return {k: v.clone() for k, v in model.state_dict().items()}


def classifier(name, num_labels=2):
    """AutoModelForSequenceClassification on checkpoint `name`, drawn after torch.manual_seed(0) as the harness
    draws it, without touching the grader's own random state."""
    from transformers import AutoModelForSequenceClassification

    with torch.random.fork_rng():
        torch.manual_seed(0)
        tiny_hub.install(hub(), [name])  # written once: a checkpoint already there is kept
        return AutoModelForSequenceClassification.from_pretrained(os.path.join(hub(), name), num_labels=num_labels)


class Gradients:
    """The largest gradient each of `named` parameters took over a run. One whose gradient stays at rounding noise
    (an attention key's bias: softmax ignores it) still moves by Adam's full step, in a direction rounding picks,
    so `noise()` names it and the comparison leaves it out."""

    def __init__(self, named):
        self.named = list(named)
        self.top = dict.fromkeys((n for n, _ in self.named), 0.0)

    def record(self):
        for name, p in self.named:
            if p.grad is not None:
                self.top[name] = max(self.top[name], float(p.grad.abs().max()))

    def noise(self):
        peak = max(self.top.values(), default=0.0)
        return {name for name, top in self.top.items() if top <= 1e-5 * peak}


def train(model, encoded, batch_size, epochs, optimizer, scheduler=None):
    """The handout's loop: per batch a forward in train mode (dropout seeded as in the sandbox), backward,
    optimizer step, scheduler step, zero_grad. Returns each batch's loss, epoch by epoch, and the names of the
    parameters whose gradient was rounding noise (Gradients)."""
    losses, gradients = [], Gradients(model.named_parameters())
    hook = hf_probe.seeded(model)
    with torch.random.fork_rng():
        for _ in range(epochs):
            model.train()
            losses.append([])
            for batch in hf_probe.loader(encoded, batch_size):
                loss = torch.nn.functional.cross_entropy(
                    hf_probe.logits_of(model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])),
                    batch["labels"])
                loss.backward()
                gradients.record()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                optimizer.zero_grad()
                losses[-1].append(float(loss))
    hook.remove()
    return losses, gradients.noise()


def logits(model, encoded):
    """The logits of `model` in eval mode, computed here."""
    return hf_probe.predict(model, encoded)


def accuracy(model, encoded, labels):
    return float((logits(model, encoded).argmax(-1) == torch.tensor(labels)).double().mean())


def split_head(logits_with, d):
    """A classifier (2 labels on d features) drawn from a secret of this grading whose predictions split about
    evenly, as the logits `logits_with(head)` show: an untrained tiny model predicts one class for every input, and
    an accuracy would then be the share of one label, known without running the model."""
    draw = torch.Generator().manual_seed(secret("split_head"))
    head = {"weight": torch.randn(2, d, generator=draw), "bias": torch.zeros(2)}
    out = logits_with({k: v.tolist() for k, v in head.items()})
    head["bias"][1] = -(out[:, 1] - out[:, 0]).median()
    return {k: v.tolist() for k, v in head.items()}


def accuracy_range(out, labels):
    """(lowest, highest) accuracy of the argmax of 2-label logits `out`: a prediction whose logits are closer than
    rounding between processes (thread counts differ) may go either way."""
    diff = (out[:, 1] - out[:, 0]).double()
    sure = diff.abs() > 1e-4 * max(1.0, float(out.abs().max()))
    right = int((((diff > 0).long() == torch.tensor(labels)) & sure).sum())
    return right / len(labels), (right + int((~sure).sum())) / len(labels)


def within(value, bounds):
    return isinstance(value, float) and bounds[0] - 1e-9 <= value <= bounds[1] + 1e-9


def decoys(n, sets, out=None, tries=1000):
    """`sets` lists of n labels drawn from a secret of this grading: what the student's evaluate sees, so the
    real labels never enter the sandbox and a returned accuracy cannot be known in advance.

    With the grader's logits `out`, each set agrees with out's predictions on a share drawn from the secret, between
    0.8 and 0.95 or between 0.05 and 0.2: a prediction that changes (dropout left on in evaluation) then moves the
    accuracy, up or down by the same amount for every set, where labels drawn at random let changes cancel (two
    flipped predictions leave a random set's accuracy as it was half the time; this set's at most a third). A set
    is drawn again while the accuracies it accepts (accuracy_range) hold the share of either label: a number the
    labels alone give, which an evaluate that never ran the model could return."""
    draw, found = random.Random(secret("decoys")), []
    predicted = None if out is None else (out[:, 1] > out[:, 0]).long().tolist()
    for _ in range(tries):
        if predicted is None:
            labels = [draw.randrange(2) for _ in range(n)]
        else:
            agree = draw.uniform(0.8, 0.95)
            agree = agree if draw.random() < 0.5 else 1 - agree
            labels = [p if draw.random() < agree else 1 - p for p in predicted]
        if out is None or not any(within(labels.count(c) / n, accuracy_range(out, labels)) for c in (0, 1)):
            found.append(labels)
        if len(found) == sets:
            return found
    raise RuntimeError(f"no {sets} label sets whose accuracy the labels alone do not give, in {tries} draws")


def differing(got, state, start, noise=()):
    """The names of the grader's `state` entries (name -> tensor: its model's after its run) that the returned state
    lacks, or whose value differs from the grader's by more than a hundredth of the update its run made from
    `start` (entries in `noise` need only be there): [] when the student's run reached the grader's weights."""
    if not isinstance(got, dict):
        raise StudentError(f"the harness returned {type(got).__name__} for the trained weights")
    out = []
    for name, want in state.items():
        if name in noise and torch.is_tensor(got.get(name)):
            continue
        t = got.get(name)
        t = require_tensor(t, name) if t is not None else None
        if t is None or t.shape != want.shape:
            out.append(name)
            continue
        want, scale = want.double(), (want.double() - start[name].double()).abs().max()
        if (t.double() - want).abs().max() > UPDATE_RTOL * scale + ATOL:
            out.append(name)
    return out


def load(model, state):
    """`model` with the returned state (name -> tensor) loaded: what the student's code left, evaluated here."""
    try:
        model.load_state_dict({k: require_tensor(v, k) for k, v in state.items()}, strict=True)
    except (AttributeError, RuntimeError) as e:
        raise StudentError(f"the trained weights sent back do not fit the model ({str(e)[:200]})") from None
    return model
