"""Probes for checks of Hugging Face fine-tuning code, run in the sandbox next to the student's code: a log of
the calls a training step makes (forward with the model's mode and autograd state, backward, optimizer step,
scheduler step, zero_grad), 'cuda' read as the CPU, stand-ins for the handouts' downloads (the `evaluate`
accuracy metric, matplotlib), and data loaders over encodings the grader made. Plain source, loaded as a given
module: it imports nothing of the grader. The grader reads the log with graders/checks/hf/steps.py."""
import contextlib
import inspect


class Accuracy:
    """The part of `evaluate.load("accuracy")` the handout uses."""

    def __init__(self):
        self.right, self.total = 0, 0

    def add_batch(self, predictions, references):
        import torch

        p, r = torch.as_tensor(predictions).reshape(-1), torch.as_tensor(references).reshape(-1)
        self.right += int((p.cpu() == r.cpu()).sum())
        self.total += len(r)

    def compute(self):
        return {"accuracy": self.right / self.total if self.total else 0.0}


class NoPlot:
    """matplotlib.pyplot, drawing nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class Recorder:
    """Patches torch for the duration of one student call: names of 'cuda' mean the CPU, and the calls that
    make a training step are logged in order."""

    def __init__(self):
        self.events, self.cuda = [], False

    def cpu(self, value):
        import torch

        if isinstance(value, (str, torch.device)) and str(value).startswith("cuda"):
            self.cuda = True
            return "cpu"
        return value

    @contextlib.contextmanager
    def patched(self):
        import torch
        from torch.optim import lr_scheduler, optimizer

        originals = []

        def patch(owner, name, make):
            old = getattr(owner, name)
            originals.append((owner, name, old))
            setattr(owner, name, make(old))

        def to(old):
            return lambda obj, *a, **k: old(obj, *map(self.cpu, a), **{n: self.cpu(v) for n, v in k.items()})

        def cuda(old):
            def moved(obj, *a, **k):
                self.cuda = True
                return obj
            return moved

        def logged(event, skip=lambda obj: False):
            def wrap(old):
                def call(obj, *a, **k):
                    if not skip(obj):
                        self.events.append([event])
                    return old(obj, *a, **k)
                return call
            return wrap

        for owner in (torch.Tensor, torch.nn.Module):
            patch(owner, "to", to)
            patch(owner, "cuda", cuda)
        def backward(old):  # logged with the loss's value, which the grader compares with what training reports
            def call(obj, *a, **k):
                self.events.append(["backward", float(obj.detach().float().mean()) if obj.numel() else 0.0])
                return old(obj, *a, **k)
            return call

        patch(torch.Tensor, "backward", backward)
        patch(torch.optim.Optimizer, "zero_grad", logged("zero_grad"))
        patch(torch.nn.Module, "zero_grad", logged("zero_grad"))
        # The scheduler's constructor steps once itself (_step_count 0): that is not the student's step.
        patch(lr_scheduler.LRScheduler, "step", logged("scheduler_step", lambda s: getattr(s, "_step_count", 0) == 0))
        hook = optimizer.register_optimizer_step_pre_hook(lambda opt, a, k: self.events.append(["step"]))
        try:
            yield self
        finally:
            hook.remove()
            for owner, name, old in reversed(originals):
                setattr(owner, name, old)

    def watch(self, model):
        """Log each forward of `model` with its mode and whether autograd is on."""
        import torch

        return model.register_forward_pre_hook(
            lambda m, args: self.events.append(["forward", m.training, torch.is_grad_enabled()]))


def seed_of(input_ids):
    """The seed of a training forward's dropout, a function of its batch alone: the grader's own run of the same
    loop (graders/checks/hf/rerun.py) draws the same masks, whatever else the student's code draws."""
    import torch

    ids = torch.as_tensor(input_ids).long().reshape(-1)
    return int((ids * torch.arange(1, len(ids) + 1)).sum()) % (2 ** 31)


def seeded(model):
    """Reseed torch from the input ids before each forward of `model` in train mode."""
    import torch

    def reseed(m, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if m.training and torch.is_tensor(ids):
            torch.manual_seed(seed_of(ids))

    return model.register_forward_pre_hook(reseed, with_kwargs=True)


def adapter_start(seed, name, shape):
    """Where the grader starts an added low-rank factor `name` of `shape` (LoRA's A, r x in, or B, out x r), drawn
    from the grader's secret `seed` and the name, so the grader redraws it without the sandbox's word. B is not
    zero, as peft starts it: the update BA then counts from the first step, so its scaling shows in the weights
    (Adam's steps from B = 0 are nearly the same whatever the scaling)."""
    import zlib

    import torch

    draw = torch.Generator().manual_seed((seed + zlib.crc32(name.encode())) % 2 ** 63)
    return torch.randn(*shape, generator=draw) / max(shape) ** 0.5


def weights(model):
    """The model's state (parameters and buffers) as plain tensors, for the grader to compare with its own run."""
    return {name: t.detach().clone() for name, t in model.state_dict().items()}


def set_classifier(model, head):
    """Give a transformers classification model's last Linear (`classifier`, or RoBERTa's `classifier.out_proj`) the
    weights `head` {"weight", "bias"} (nested lists): the grader's choice, so it knows what the model predicts."""
    import torch

    layer = getattr(model.classifier, "out_proj", model.classifier)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(head["weight"]))
        layer.bias.copy_(torch.tensor(head["bias"]))
    return model


def with_dropout(model, p):
    """Every dropout module of `model` at rate p: evaluating in train mode then shows in the predictions."""
    import torch

    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = p
    return model


def without_dropout(model):
    """Dropout off everywhere (modules, and the attention's dropout_prob of sdpa kernels): for a run the grader
    repeats on its own model of another class, which cannot draw the same masks."""
    import torch

    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if isinstance(getattr(m, "dropout_prob", None), float):
            m.dropout_prob = 0.0


def interface(fn, args, known):
    """How to call `fn`: by the handout's parameter names when it uses them all (a signature that grew an optional
    parameter in the middle still gets the right values), else positionally as the handout calls it. Returns
    (args, kwargs, None), or (None, None, a message naming the parameters the grader cannot fill)."""
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p.name for p in params if p.default is p.empty]
    if all(name in known for name in required) and all(p.kind != p.POSITIONAL_ONLY for p in params):
        return (), {p.name: known[p.name] for p in params if p.name in known}, None
    try:
        sig.bind(*args)
        return args, {}, None
    except TypeError:
        unknown = [name for name in required if name not in known] or ["positional-only parameters"]
        return None, None, (f"{fn.__name__}{sig} has required parameters the handout's call does not pass "
                            f"({', '.join(unknown)}); keep the handout's signature")


def scalar(value):
    """A returned number (an int, a float, a one-element tensor) as a float; anything else as a short repr."""
    if isinstance(value, (int, float)) or getattr(value, "numel", lambda: 0)() == 1:
        return float(value)
    return repr(value)[:200]


def loader(encoded, batch_size):
    import torch
    from torch.utils.data import DataLoader

    columns = zip(encoded["input_ids"], encoded["attention_mask"], encoded["labels"], strict=True)
    rows = [{"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(label)}
            for ids, mask, label in columns]
    return DataLoader(rows, batch_size=batch_size)


def logits_of(output):
    """The logits of a model's output: {"logits": ...} (the custom model), .logits (transformers), a tensor."""
    if isinstance(output, dict) and "logits" in output:
        return output["logits"]
    return getattr(output, "logits", output)


def predict(model, encoded):
    """The harness's own predictions: eval mode, no autograd."""
    import torch

    model.eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor(encoded["input_ids"]),
                    attention_mask=torch.tensor(encoded["attention_mask"]))
    return logits_of(out).float()
