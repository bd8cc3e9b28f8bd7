"""CS224N birthplace job: pretrain a char-level minGPT with the student's span corruption, finetune it on
`Where was NAME born?<TAB>PLACE`, predict places for held-out names.

Loaded into two sandbox children as a module of the job's package (graders.jobs.JobSource), after
graders/checks/job_weights.py, and run next to the student's modules, so it imports only the standard library,
torch and its neighbour job_weights (never `graders` or `reference`). In the first, train_job pretrains and
finetunes and returns the weights and the vocabulary; in the second, fresh, evaluate_job loads them, gets the
dev questions without their answers and returns plain data (predictions, logits of probe sequences, timings);
the grader checks the weights in between (architecture) and scores the predictions and checks causality on the
probe logits itself, so a job cannot report its own accuracy.

The model, the finetune dataset and the greedy prediction follow the handouts (minGPT: model.py,
dataset.py's NameDataset, run.py, utils.sample); the student's CausalSelfAttention sits in every block and
the student's CharCorruptionDataset makes every pretraining example.
"""
import importlib
import math
import random
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

from .job_weights import JobError, load, progress, state

MASK_CHAR = "\u2047"  # ⁇, as in the handouts
PAD_CHAR = "\u25A1"   # □
# The smoke profile (CPU, one thread, about a minute): calibrated by benchmarks/birthplace_smoke.py.
SMOKE = {"block_size": 64, "n_layer": 2, "n_head": 2, "n_embd": 64, "pdrop": 0.0, "rope": False,
         "pretrain_iters": 3200, "pretrain_batch": 16, "pretrain_lr": 3e-3,
         "finetune_iters": 20, "finetune_batch": 32, "finetune_lr": 7e-4,
         "warmup": 0.05, "weight_decay": 0.1, "grad_clip": 1.0, "curve_points": 32, "seed": 0, "device": "cpu"}
MAX_PROBES = 64
MAX_ANSWER = 32  # characters generated after the question's ⁇ (the handout samples 32)


class GPTConfig:
    """The handout's config: defaults for dropout and rope, everything else by keyword."""
    embd_pdrop = attn_pdrop = resid_pdrop = 0.1
    rope = False
    bottleneck_dim = None

    def __init__(self, vocab_size, block_size, **kwargs):
        self.vocab_size, self.block_size = vocab_size, block_size
        for k, v in kwargs.items():
            setattr(self, k, v)


class Block(nn.Module):
    def __init__(self, config, attention):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(config.n_embd), nn.LayerNorm(config.n_embd)
        self.attn = attention(config)
        # The handouts' MLP. It ships in student kits (--train), whose leak test would take the usual spelling for
        # the A5 2023 Perceiver reference's helper, which builds the same handout MLP: the width is named instead.
        width = 4 * config.n_embd
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, width), nn.GELU(), nn.Linear(width, config.n_embd),
                                 nn.Dropout(config.resid_pdrop))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """minGPT as in the handouts: no position embedding when the attention rotates (2024's rope)."""

    def __init__(self, config, attention):
        super().__init__()
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.rope = bool(config.rope)
        if not self.rope:
            self.pos_emb = nn.Parameter(torch.zeros(1, config.block_size, config.n_embd))
        self.drop = nn.Dropout(config.embd_pdrop)
        self.blocks = nn.Sequential(*[Block(config, attention) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.block_size = config.block_size
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear | nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, idx):
        x = self.tok_emb(idx)
        if not self.rope:
            x = x + self.pos_emb[:, :idx.shape[1]]
        return self.head(self.ln_f(self.blocks(self.drop(x))))


class NameDataset:
    """The handout's finetune set: x = `question⁇place⁇□□…`, y the same shifted by one, with the question's
    targets padded (PAD is ignored by the loss) so only the answer and its closing ⁇ are trained.
    `length` is the student's pretraining x length, so both phases see sequences of one size."""

    def __init__(self, stoi, length, data):
        self.stoi, self.length = stoi, length
        self.data = [line.split("\t") for line in data.split("\n") if line.strip()]

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        inp, oup = self.data[idx]
        x = inp + MASK_CHAR + oup + MASK_CHAR
        x = x + PAD_CHAR * (self.length + 1 - len(x))
        y = PAD_CHAR * (len(inp) - 1) + x[len(inp):]
        return encode(self.stoi, x[:-1]), encode(self.stoi, y)


def encode(stoi, text):
    try:
        return torch.tensor([stoi[c] for c in text], dtype=torch.long)
    except KeyError as e:
        raise JobError(f"character {e.args[0]!r} is not in the dataset's stoi") from None


def student_module(name):
    return sys.modules[name] if name in sys.modules else importlib.import_module(name)


def pretrain_item(dataset, idx, length):
    """One (x, y) of the student's dataset, as Long tensors; lengths must match the first item's."""
    x, y = dataset[idx]
    x, y = torch.as_tensor(x).long(), torch.as_tensor(y).long()
    if x.dim() != 1 or x.shape != y.shape or (length is not None and x.shape[0] != length):
        raise JobError(f"CharCorruptionDataset[{idx}] gave x of shape {tuple(x.shape)} and y of shape "
                       f"{tuple(y.shape)}; expected two 1-D tensors of one fixed length")
    return x, y


def optimizer(model, lr, weight_decay):
    """AdamW as minGPT configures it: weight decay on the Linear weights only."""
    decay, rest = [], []
    for n, p in model.named_parameters():
        (decay if p.dim() >= 2 and n != "pos_emb" and not n.startswith("tok_emb") else rest).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95))


def train(model, batches, iters, lr, hp, ignore_index):
    """`iters` AdamW steps with linear warmup and cosine decay to lr/10 (minGPT's schedule, by steps);
    returns the loss curve, at most `curve_points` points, each the mean loss since the previous one."""
    opt = optimizer(model, lr, hp["weight_decay"])
    warmup = max(1, int(hp["warmup"] * iters))
    curve, window, every = [], [], max(1, iters // hp["curve_points"])
    model.train()
    for step in range(iters):
        if step < warmup:
            scale = (step + 1) / warmup
        else:
            scale = 0.1 + 0.45 * (1 + math.cos(math.pi * (step - warmup) / max(1, iters - warmup)))
        for group in opt.param_groups:
            group["lr"] = lr * scale
        x, y = (t.to(hp["device"]) for t in batches())
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=ignore_index)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), hp["grad_clip"])
        opt.step()
        window.append(loss.item())
        progress(step + 1, iters, window[-1])
        if len(window) == every or step == iters - 1:
            curve.append([step + 1, sum(window) / len(window)])
            window = []
    return curve


def epochs(n, batch_size, item):
    """Batches drawn epoch by epoch in a seeded random order, as a shuffling DataLoader does."""
    order = []

    def next_batch():
        xs, ys = [], []
        for _ in range(batch_size):
            if not order:
                order.extend(torch.randperm(n).tolist())
            x, y = item(order.pop())
            xs.append(x)
            ys.append(y)
        return torch.stack(xs), torch.stack(ys)
    return next_batch


@torch.no_grad()
def predict(model, stoi, itos, questions):
    """Greedy completion of `question⁇` up to the next ⁇ (run.py with utils.sample, sample=False); questions
    of one length run as one batch."""
    model.eval()
    mask = stoi[MASK_CHAR]
    out = [""] * len(questions)
    by_length = {}
    for i, q in enumerate(questions):
        by_length.setdefault(len(q), []).append(i)
    for _, group in sorted(by_length.items()):
        x = torch.stack([encode(stoi, questions[i] + MASK_CHAR) for i in group]).to(model.tok_emb.weight.device)
        done = torch.zeros(len(group), dtype=torch.bool)
        answer = [[] for _ in group]
        for _ in range(MAX_ANSWER):
            nxt = model(x[:, -model.block_size:])[:, -1].argmax(-1)
            for j, t in enumerate(nxt.tolist()):
                if not done[j]:
                    if t == mask:
                        done[j] = True
                    else:
                        answer[j].append(itos.get(t, ""))
            if done.all():
                break
            x = torch.cat([x, nxt[:, None]], dim=1)
        for j, i in enumerate(group):
            out[i] = "".join(answer[j])
    return out


@torch.no_grad()
def probe(model, probes, vocab_size, forward=None):
    """The trained model's logits for the probe pairs (sequences 0, 2, 4, ... against 1, 3, 5, ...), each half as
    one batch, in eval mode and in train mode with the same dropout draws for both halves: the grader checks that
    no position moved before its pair's cut. Attention that masks in one mode or at one batch size only leaks."""
    forward = forward or model
    if len(probes) % 2 or not 0 < len(probes) <= MAX_PROBES or len({len(ids) for ids in probes}) != 1:
        raise JobError(f"bad probes: {len(probes)} sequences")
    if not 0 < len(probes[0]) <= model.block_size or \
            not all(type(t) is int and 0 <= t < vocab_size for ids in probes for t in ids):
        raise JobError(f"bad probe of {len(probes[0])} ids")
    device = next(model.parameters()).device
    out = {}
    for mode in ("eval", "train"):
        model.train(mode == "train")
        halves = []
        for half in (probes[0::2], probes[1::2]):
            torch.manual_seed(len(probes))  # the same dropout masks for both halves
            halves.append(forward(torch.tensor(half, dtype=torch.long, device=device)).float().cpu())
        out[mode] = halves
    model.eval()
    return out


class NoAttention(nn.Module):
    """Stands for the student's attention where only the job's own weights are counted."""

    def __init__(self, config):
        super().__init__()

    def forward(self, x):
        return x


def gpt_architecture(config):
    """(the job's own weights' shapes, the most numbers each block's attention may hold): twice the reference's
    four n_embd x n_embd projections with biases, plus room for a causal mask and a rotation cache."""
    own = {k: tuple(v.shape) for k, v in GPT(config, NoAttention).state_dict().items()}
    d, t = config.n_embd, config.block_size
    return own, {f"blocks.{i}.attn.": 2 * (4 * d * d + 4 * d) + 2 * t * t + 2 * t * d for i in range(config.n_layer)}


def setup(dataset_module, attention_module, hp):
    """The student's dataset module and attention class, with the seeds set as the handout's run.py sets them."""
    random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    return student_module(dataset_module), getattr(student_module(attention_module),
                                                    hp.get("attention_class", "CausalSelfAttention"))


def config_for(vocab_size, hp):
    return GPTConfig(vocab_size, hp["block_size"], n_layer=hp["n_layer"], n_head=hp["n_head"], n_embd=hp["n_embd"],
                     embd_pdrop=hp["pdrop"], attn_pdrop=hp["pdrop"], resid_pdrop=hp["pdrop"], rope=hp["rope"])


def vocabulary(stoi, corpus=None):
    """The student's stoi as {character: id}, ids 0..n-1, holding the mask and the pad (and, given the corpus,
    nothing else)."""
    stoi = {str(c): int(i) for c, i in dict(stoi).items()}
    if MASK_CHAR not in stoi or PAD_CHAR not in stoi:
        raise JobError("the dataset's stoi lacks the mask or the pad character")
    if sorted(stoi.values()) != list(range(len(stoi))):
        raise JobError("the dataset's stoi does not number its characters 0, 1, 2, ...")
    if corpus is not None and set(stoi) - set(corpus) - {MASK_CHAR, PAD_CHAR}:
        raise JobError("the dataset's stoi holds characters that are not in the corpus")
    return stoi


def train_job(dataset_module, attention_module, corpus, train_tsv, hp):
    """Pretrain (unless hp["pretrain_iters"] is 0) and finetune; returns the weights and the vocabulary, as plain
    data. The dev questions are not here: another sandbox predicts with these weights (evaluate_job)."""
    hp = {**SMOKE, **hp}
    datasets, attention = setup(dataset_module, attention_module, hp)
    dataset = datasets.CharCorruptionDataset(corpus, hp["block_size"])
    stoi = vocabulary(dataset.stoi)
    length = pretrain_item(dataset, 0, None)[0].shape[0]  # block_size (2024) or block_size - 1 (2021, 2023)
    random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    model = GPT(config_for(len(stoi), hp), attention).to(hp["device"])
    pad = stoi[PAD_CHAR]
    seconds, curve = {}, {"pretrain": [], "finetune": []}

    start = time.perf_counter()
    if hp["pretrain_iters"] > 0:
        batches = epochs(len(dataset), hp["pretrain_batch"], lambda i: pretrain_item(dataset, i, length))
        curve["pretrain"] = train(model, batches, hp["pretrain_iters"], hp["pretrain_lr"], hp, pad)
    seconds["pretrain"] = time.perf_counter() - start

    start = time.perf_counter()
    names = NameDataset(stoi, length, train_tsv)
    if len(names) == 0 or any(len(q) + len(a) + 2 > length + 1 for q, a in names.data):
        raise JobError(f"finetune lines must exist and fit in {length} characters with their two ⁇")
    curve["finetune"] = train(model, epochs(len(names), hp["finetune_batch"], names.__getitem__),
                              hp["finetune_iters"], hp["finetune_lr"], hp, pad)
    seconds["finetune"] = time.perf_counter() - start
    return {"weights": state(model), "model": {"stoi": stoi}, "curve": curve, "seconds": seconds}


def architecture(corpus, hp, model, **_):
    """Run by the grader on what train_job returned: the job's own weights and the attention's room (see
    gpt_architecture), for the vocabulary the student's dataset made of this corpus."""
    hp = {**SMOKE, **hp}
    return gpt_architecture(config_for(len(vocabulary(model["stoi"], corpus)), hp))


def evaluate_job(dataset_module, attention_module, weights, model, dev_questions, probes, hp):
    """In a fresh sandbox: the model rebuilt with the student's attention and the trained weights predicts the
    places of the dev questions (their answers stay with the grader) and gives the probes' logits."""
    hp = {**SMOKE, **hp}
    _, attention = setup(dataset_module, attention_module, hp)
    stoi = vocabulary(model["stoi"])
    net = load(GPT(config_for(len(stoi), hp), attention), weights, hp["device"])
    start = time.perf_counter()
    predictions = predict(net, stoi, {i: c for c, i in stoi.items()}, list(dev_questions))
    probe_logits = probe(net, probes, len(stoi))
    return {"predictions": predictions, "probe_logits": probe_logits,
            "seconds": {"predict": time.perf_counter() - start}}
