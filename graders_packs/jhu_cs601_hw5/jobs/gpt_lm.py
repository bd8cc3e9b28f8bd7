"""GPT language-model job (JHU CS 601 hw5): train a small GPT whose every block holds the student's
CausalSelfAttention on the text the grader gives, then return the logits for the next token of each held-out
context (the next tokens stay with the grader), the logits of probe sequences, the loss curve and timings.

Training (train_job) and prediction (evaluate_job, in a fresh sandbox, from the trained weights) run apart, so
the held-out contexts never meet the training code. A module of the job's package beside the CS224N birthplace
job (graders.jobs.JobSource), whose minGPT (GPTConfig, GPT: the student's attention plugged into the reference's
block), training loop (train, epochs), student_module and probe it reuses; like that job it imports only the
standard library, torch and its neighbours.
"""
import random
import time

import torch

from .birthplace import GPT, GPTConfig, epochs, gpt_architecture, probe, student_module, train
from .job_weights import JobError, load, state

# The smoke profile (CPU, one thread, well under a minute): calibrated by benchmarks/gpt_lm_smoke.py. Dropout is the
# handout's (GPTConfig's 0.2, as in the full profile), so the student's dropout trains as the course's model does.
LM_SMOKE = {"block_size": 32, "n_layer": 2, "n_head": 2, "n_embd": 64, "dropout": 0.2, "iters": 600, "batch": 32,
            "lr": 3e-3, "warmup": 0.05, "weight_decay": 0.1, "grad_clip": 1.0, "curve_points": 32, "seed": 0,
            "device": "cpu", "attention_class": "CausalSelfAttention"}
MAX_CONTEXTS = 4096


@torch.no_grad()
def next_token_logits(model, contexts, batch=256):
    """The trained model's logits for the token after each context (lists of ids)."""
    model.eval()
    out = []
    for i in range(0, len(contexts), batch):
        chunk = contexts[i:i + batch]
        if not all(ids and len(ids) == len(chunk[0]) and len(ids) <= model.block_size for ids in chunk):
            raise JobError("contexts must be non-empty, of one length within block_size")
        x = torch.tensor(chunk, dtype=torch.long, device=model.tok_emb.weight.device)
        out += model(x)[:, -1].tolist()
    return out


def lm_model(model_module, vocab, hp):
    """The GPT of the student's attention for this vocabulary, freshly built from hp["seed"]."""
    random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    attention = getattr(student_module(model_module), hp["attention_class"])
    return GPT(lm_config(len(vocab), hp), attention)


def lm_config(vocab_size, hp):
    p = hp["dropout"]
    return GPTConfig(vocab_size, hp["block_size"], n_layer=hp["n_layer"], n_head=hp["n_head"], n_embd=hp["n_embd"],
                     embd_pdrop=p, attn_pdrop=p, resid_pdrop=p, dropout=p, bias=True)


def train_job(model_module, train_text, vocab, hp):
    """Train hp["iters"] steps (0 leaves the model untrained); returns the weights as plain data."""
    hp = {**LM_SMOKE, **hp}
    model = lm_model(model_module, vocab, hp).to(hp["device"])
    stoi = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([stoi[c] for c in train_text if c in stoi], dtype=torch.long)
    length = hp["block_size"]
    start = time.perf_counter()
    batches = epochs(len(ids) - length, hp["batch"], lambda i: (ids[i:i + length], ids[i + 1:i + length + 1]))
    curve = {"train": train(model, batches, hp["iters"], hp["lr"], hp, -100)}
    return {"weights": state(model), "model": {}, "curve": curve, "seconds": {"train": time.perf_counter() - start}}


def architecture(vocab, hp, **_):
    """Run by the grader on what train_job returned: the job's own weights and the attention's room."""
    return gpt_architecture(lm_config(len(vocab), {**LM_SMOKE, **hp}))


def evaluate_job(model_module, weights, model, vocab, contexts, probes, hp):
    """In a fresh sandbox: the trained model's next-token logits for the held-out contexts (their next tokens stay
    with the grader) and the probes' logits."""
    hp = {**LM_SMOKE, **hp}
    net = load(lm_model(model_module, vocab, hp), weights, hp["device"])
    start = time.perf_counter()
    logits = next_token_logits(net, contexts[:MAX_CONTEXTS])
    probe_logits = probe(net, probes, len(vocab))
    return {"logits": logits, "probe_logits": probe_logits, "seconds": {"predict": time.perf_counter() - start}}
