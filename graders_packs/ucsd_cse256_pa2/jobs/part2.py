"""PA2 part 2 job: train the student's decoder on the training text (the handout's LanguageModelingDataset
windows), then return its next-token logits for held-out contexts, whose next tokens stay with the grader, and
its logits for probe sequences, on which the grader checks causality. A module of the job's package beside
models.py and jobs/common.py (graders.jobs.JobSource).
"""
import random
import time

import torch

from .common import batches, handout_room, output, student_model, train_model
from .job_weights import JobError, load, state

# The smoke profile (CPU, one thread, well under a minute): calibrated by benchmarks/pa2_smoke.py.
JOB_SMOKE = {"n_embd": 64, "n_head": 2, "n_layer": 2, "block_size": 32, "n_hidden": 100, "n_output": 3,
            "dropout": 0.0, "pad_idx": 0, "max_iters": 300, "batch_size": 16, "lr": 1e-3, "curve_points": 32,
            "seed": 0, "device": "cpu"}
MAX_CONTEXTS = 4096


def prepare(hp, vocab_size):
    hp = {**JOB_SMOKE, **hp, "vocab_size": vocab_size}
    hp["n_input"] = hp["n_embd"]
    random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    return hp


def architecture(hp, vocab_size, **_):
    """Run by the grader on what train_job returned (common.handout_room)."""
    return handout_room({**JOB_SMOKE, **hp}, vocab_size)


def train_job(model_module, train_ids, vocab_size, hp, main=None, module=None):
    """Train hp["max_iters"] steps (0 leaves the decoder untrained); main: main.py's reading (mainpy.py) or None.
    Returns the trained weights, the loss curve and timings."""
    hp = prepare(hp, vocab_size)
    model = student_model(model_module, "decoder", hp, main, module)[0]
    T, data = hp["block_size"], torch.tensor(train_ids, dtype=torch.long)
    if len(data) <= T + 1:
        raise JobError(f"the training text has {len(data)} tokens, too few for block_size {T}")
    order = torch.Generator().manual_seed(hp["seed"])
    window = batches(len(data) - T, hp["batch_size"], lambda i: (data[i:i + T], data[i + 1:i + T + 1]), order)
    curve, seconds = train_model(model, window, hp["max_iters"], "decoder", hp)
    return {"weights": state(model), "model": {}, "curve": {"train": curve}, "seconds": {"train": seconds}}


@torch.no_grad()
def probe(model, probes, hp):
    """The decoder's logits for the probe pairs (sequences 0, 2, 4, ... against 1, 3, 5, ...), each half as one
    batch, in eval mode and in train mode with the same dropout draws for both halves: the grader checks that no
    position moved before its pair's cut."""
    out = {}
    for mode in ("eval", "train"):
        model.train(mode == "train")
        halves = []
        for half in (probes[0::2], probes[1::2]):
            torch.manual_seed(len(probes))  # the same dropout masks for both halves
            halves.append(output(model, torch.tensor(half, device=hp["device"]), "decoder", hp).float().cpu())
        out[mode] = halves
    model.eval()
    return out


def evaluate_job(model_module, weights, model, contexts, probes, vocab_size, hp, main=None, module=None):
    """In a fresh sandbox: the decoder rebuilt and loaded with the trained weights gives its next-token logits for
    the held-out contexts (their next tokens stay with the grader) and the probes' logits."""
    hp = prepare(hp, vocab_size)
    net = load(student_model(model_module, "decoder", hp, main, module)[0], weights, hp["device"])
    start = time.perf_counter()
    with torch.no_grad():
        logits = [output(net, torch.tensor(contexts[i:i + 256], device=hp["device"]), "decoder", hp)[:, -1].float()
                  for i in range(0, min(len(contexts), MAX_CONTEXTS), 256)]
    return {"logits": torch.cat(logits).cpu(), "probe_logits": probe(net, probes, hp),
            "seconds": {"predict": time.perf_counter() - start}}
