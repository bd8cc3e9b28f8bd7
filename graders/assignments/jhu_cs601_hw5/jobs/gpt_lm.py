"""GPT language-model job (JHU CS 601 hw5): train a small GPT whose every block holds the student's
CausalSelfAttention on the text the grader gives, then return the logits for the next token of each held-out
context (the next tokens stay with the grader), the logits of probe sequences, the loss curve and timings.

Runs appended to the CS224N birthplace job's source (graders.assignments.lm.JobSource), whose minGPT (GPTConfig,
Block, GPT: the student's attention plugged into the reference's block), training loop (train, epochs, optimizer),
student_module and probe it reuses; like that job it imports only the standard library and torch.
"""
# ruff: noqa: F821 - GPTConfig, GPT, JobError, train, epochs, student_module, probe: the birthplace job's, above this
import random
import time

import torch

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


def run(model_module, train_text, vocab, contexts, probes, hp):
    """Train (hp["iters"] steps; 0 leaves the model untrained), then predict; returns plain data only."""
    hp = {**LM_SMOKE, **hp}
    random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    attention = getattr(student_module(model_module), hp["attention_class"])
    stoi = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([stoi[c] for c in train_text if c in stoi], dtype=torch.long)
    length, p = hp["block_size"], hp["dropout"]
    config = GPTConfig(len(vocab), length, n_layer=hp["n_layer"], n_head=hp["n_head"], n_embd=hp["n_embd"],
                       embd_pdrop=p, attn_pdrop=p, resid_pdrop=p, dropout=p, bias=True)
    model = GPT(config, attention).to(hp["device"])
    start = time.perf_counter()
    batches = epochs(len(ids) - length, hp["batch"], lambda i: (ids[i:i + length], ids[i + 1:i + length + 1]))
    curve = {"train": train(model, batches, hp["iters"], hp["lr"], hp, -100)}
    seconds = {"train": time.perf_counter() - start}
    start = time.perf_counter()
    logits = next_token_logits(model, contexts[:MAX_CONTEXTS])
    probe_logits = probe(model, probes, len(vocab))
    seconds["predict"] = time.perf_counter() - start
    return {"logits": logits, "probe_logits": probe_logits, "curve": curve, "seconds": seconds}
