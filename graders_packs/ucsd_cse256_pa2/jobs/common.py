"""What both PA2 jobs share: the student's models found in this process (models.py's find, the same module the
checks use, loaded beside this one, with main.py's reading when the grader hands one over, so a model is built as
the checks built it), the handout's batching, and a training loop.

A module of the job's package (graders.jobs.JobSource) in the sandbox child next to the student's transformer.py, so
it imports only the standard library, torch and its neighbours. The jobs get token ids made by the grader and return
plain data; the grader scores it. Each job trains in one sandbox (train_job: the weights come back as a state dict)
and predicts in a fresh one (evaluate_job: the student's model rebuilt as in training, loaded with those weights),
so the held-out data never meets the training code.
"""
import importlib
import inspect
import sys
import time
import types
import weakref

import torch
from torch.nn import functional as F

from .job_weights import JobError, progress
from .models import classify, find, forward_kwargs, parameters, set_globals


def student_classes(name, others=()):
    """The module and [(class name, constructor signature)] of the classes defined in it and in the modules of the
    hand-in's other files (`others`: graders/others.py), as one namespace: the module's names, then each class of
    the others that it does not define."""
    module = sys.modules[name] if name in sys.modules else importlib.import_module(name)
    merged, classes = types.SimpleNamespace(**vars(module)), []
    for each in [module] + [sys.modules[o] for o in others if o in sys.modules]:
        for cls_name, cls in vars(each).items():
            if inspect.isclass(cls) and cls.__module__ == each.__name__ and cls_name not in dict(classes):
                try:
                    classes.append((cls_name, str(inspect.signature(cls))))
                except (TypeError, ValueError):
                    continue
                setattr(merged, cls_name, cls)
    return merged, classes


PLANS = weakref.WeakKeyDictionary()  # {model: its forward plan (forward_plans)}, as find chose it


def call(model, x, plan=None):
    """model(x) as main.py calls it, with its forward plan's mask and flags; a forward that needs targets gets the
    next tokens."""
    kwargs = forward_kwargs(plan or PLANS.get(model), x)
    try:
        return model(x, **kwargs)
    except TypeError:
        return model(x, torch.roll(x, -1, 1), **kwargs)


def forward_of(cls):
    """The parameters of a class's forward besides the token ids, as models.forward_parameters reads them."""
    try:
        return (parameters(str(inspect.signature(cls.forward))) or [])[1:]
    except (AttributeError, TypeError, ValueError):
        return None


def student_model(module_name, role, hp, main, facts=None):
    """The student's model playing `role`, freshly built from hp["seed"] on hp["device"] (as main.py builds it, main
    being its reading or None, after the helpers that set hyper-parameter globals: facts, models.module_globals),
    and the module."""
    facts = facts or {"setters": [], "models": []}
    module, classes = student_classes(module_name, facts.get("others", ()))
    helpers = {f: str(inspect.signature(getattr(module, f))) for f in facts["setters"]}
    failed = set_globals(facts["setters"], helpers, lambda f, kwargs: getattr(module, f)(**kwargs), (Exception,),
                         hp, main)

    def build(cls, kwargs):
        torch.manual_seed(hp["seed"])
        return getattr(module, cls)(**kwargs).to(hp["device"])

    forwards = {cls: forward_of(getattr(module, cls)) for cls, _ in classes}
    found, errors = find(classes, build, lambda m, x, plan: call(m, x.to(hp["device"]), plan), (Exception,), hp,
                         main=main, forwards=forwards, global_models=facts["models"])
    errors = failed + errors
    for _, obj, _, _, plan in found.values():
        PLANS[obj] = plan
    if role in found:
        return found[role][1], module, classes, found
    if role == "classifier":
        return None, module, classes, found
    why = "; ".join(f"{c}: {type(e).__name__}: {e}" for c, e in errors[:3]) or "no class takes vocab_size"
    raise JobError(f"no {role} found in the student's module ({why})")


def output(model, x, role, hp):
    """The role's output tensor of model(x): class logits (B, n_output) or next-token logits (B, T, vocab)."""
    kind = classify(call(model, x), x.shape[0], x.shape[1], hp)
    if kind is None or kind[0] != role:
        raise JobError(f"the {role} returned something else on a batch of shape {tuple(x.shape)}")
    return kind[1]


def batches(n, batch_size, item, generator):
    """Batches in a seeded random order, epoch after epoch, as a shuffling DataLoader gives them."""
    order = []

    def next_batch():
        xs, ys = [], []
        for _ in range(min(batch_size, n)):
            if not order:
                order.extend(torch.randperm(n, generator=generator).tolist())
            x, y = item(order.pop())
            xs.append(x)
            ys.append(y)
        return torch.stack(xs), torch.stack(ys)
    return next_batch


def train_model(model, next_batch, steps, role, hp):
    """`steps` AdamW steps at the handout's learning rate on the cross-entropy of the role's output; returns the
    loss curve (at most hp["curve_points"] points, each the mean loss since the previous one) and the seconds."""
    start = time.perf_counter()
    opt = torch.optim.AdamW(model.parameters(), lr=hp["lr"])
    curve, window, every = [], [], max(1, steps // hp["curve_points"])
    model.train()
    for step in range(steps):
        x, y = (t.to(hp["device"]) for t in next_batch())
        logits = output(model, x, role, hp)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        window.append(loss.item())
        progress(step + 1, steps, window[-1])
        if len(window) == every or step == steps - 1:
            curve.append([step + 1, sum(window) / len(window)])
            window = []
    model.eval()
    return curve, time.perf_counter() - start


def handout_room(hp, vocab_size):
    """A job's architecture() at its hyper-parameters `hp`: no weights of the job's own, and room for three times
    the numbers of the handout's model at these sizes (embeddings, blocks with their feed-forward, a head for each
    part) plus a causal mask per layer."""
    d, t, layers, hidden = hp["n_embd"], hp["block_size"], hp["n_layer"], hp["n_hidden"]
    handout = vocab_size * d + t * d + layers * (12 * d * d + 13 * d) + d * vocab_size + d * hidden + \
        hidden * hp["n_output"]
    return {}, {"": 3 * handout + layers * t * t}
