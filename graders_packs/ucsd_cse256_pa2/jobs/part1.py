"""PA2 part 1 job: train the student's encoder and classifier on labelled speech segments, then predict the
speakers of the test segments (their labels stay with the grader).

The classifier is the student's class that maps token ids to (logits, attn_maps); failing one, the student's
encoder with their feed-forward classifier class (n_input, n_hidden, n_output) on the mean of the encoder's
outputs over real tokens. A module of the job's package beside models.py and jobs/common.py
(graders.jobs.JobSource).
"""
import random
import time

import torch

from .common import batches, call, handout_room, output, student_model, train_model
from .job_weights import JobError, load, state
from .models import classify, constructor_kwargs, main_arguments, parameters, stands_for

# The smoke profile (CPU, one thread, well under a minute): calibrated by benchmarks/pa2_smoke.py.
JOB_SMOKE = {"n_embd": 64, "n_head": 2, "n_layer": 2, "block_size": 32, "n_hidden": 100, "n_output": 3,
             "dropout": 0.0, "pad_idx": 0, "epochs": 3, "batch_size": 16, "lr": 1e-3, "curve_points": 32, "seed": 0,
             "device": "cpu"}


class EncoderWithHead(torch.nn.Module):
    """The student's encoder, averaged over real tokens, under the student's classifier."""

    def __init__(self, encoder, head, hp):
        super().__init__()
        self.encoder, self.head, self.hp = encoder, head, hp

    def forward(self, x):
        out = classify(call(self.encoder, x), x.shape[0], x.shape[1], self.hp)
        if out is None or out[0] != "encoder":
            raise JobError(f"the encoder returned something else on a batch of shape {tuple(x.shape)}")
        h = out[1]
        if h.dim() == 3:
            real = (x != 0).unsqueeze(-1).to(h.dtype)
            h = (h * real).sum(1) / real.sum(1).clamp(min=1)
        return self.head(h), out[2]


def classifier(module_name, hp, main, facts=None):
    model, module, classes, found = student_model(module_name, "classifier", hp, main, facts)
    if model is not None:
        return model
    if "encoder" not in found:
        raise JobError("no classifier and no encoder found in the student's module")
    for cls, signature in classes:
        given = main_arguments(main, cls, signature)
        names = [stands_for(n, given) for n, _ in parameters(signature) or []]
        if "n_output" in names and "vocab_size" not in names:
            torch.manual_seed(hp["seed"])
            head = getattr(module, cls)(**constructor_kwargs(cls, signature, False, hp, main)).to(hp["device"])
            return EncoderWithHead(found["encoder"][1], head, hp)
    raise JobError("an encoder but no classifier class (one taking n_output) found in the student's module")


def architecture(hp, vocab_size, **_):
    """Run by the grader on what train_job returned (common.handout_room)."""
    return handout_room({**JOB_SMOKE, **hp}, vocab_size)


def fit(ids, block_size):
    """The handout's collate_batch: truncate to block_size, pad with 0."""
    ids = list(ids)[:block_size]
    return torch.tensor(ids + [0] * (block_size - len(ids)), dtype=torch.long)


def prepare(hp, vocab_size):
    hp = {**JOB_SMOKE, **hp, "vocab_size": vocab_size}
    hp["n_input"] = hp["n_embd"]
    random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    return hp


def train_job(model_module, train, vocab_size, hp, main=None, module=None):
    """train: [[label, ids], ...]; main: main.py's reading (mainpy.py) or None. Returns the trained weights, the
    loss curve and timings."""
    hp = prepare(hp, vocab_size)
    model = classifier(model_module, hp, main, module)
    T = hp["block_size"]
    items = [(fit(ids, T), torch.tensor(int(label))) for label, ids in train]
    steps = hp["epochs"] * -(-len(items) // hp["batch_size"])
    order = torch.Generator().manual_seed(hp["seed"])
    curve, seconds = train_model(model, batches(len(items), hp["batch_size"], items.__getitem__, order), steps,
                                 "classifier", hp)
    return {"weights": state(model), "model": {}, "curve": {"train": curve}, "seconds": {"train": seconds}}


def evaluate_job(model_module, weights, model, test, vocab_size, hp, main=None, module=None):
    """In a fresh sandbox: the classifier rebuilt and loaded with the trained weights predicts the speaker of each
    test segment (ids); the labels stay with the grader."""
    hp = prepare(hp, vocab_size)
    net = load(classifier(model_module, hp, main, module), weights, hp["device"])
    start, T, predictions = time.perf_counter(), hp["block_size"], []
    with torch.no_grad():
        for i in range(0, len(test), 64):
            x = torch.stack([fit(ids, T) for ids in test[i:i + 64]]).to(hp["device"])
            predictions += output(net, x, "classifier", hp).argmax(-1).tolist()
    return {"predictions": predictions, "seconds": {"predict": time.perf_counter() - start}}
