"""What a training loop and an evaluation did, read from the harness's log of calls (given/hw6_harness.py):
["forward", training, grad_enabled], ["backward", loss], ["step"] (any optimizer), ["scheduler_step"], ["zero_grad"]
(optimizer or model). Each function returns the named bug it finds, or None."""

NO_ZERO_GRAD = "optimizer.zero_grad() is never called between steps: gradients of every batch accumulate"
ZERO_BEFORE_STEP = "zero_grad() runs between loss.backward() and optimizer.step(): the step sees zero gradients"
NO_BACKWARD = "loss.backward() is not called before optimizer.step(): the step has no gradients"
NO_STEP = "optimizer.step() is never called: the parameters never change"
NO_SCHEDULER = "lr_scheduler.step() is not called once per batch"
EVAL_WHILE_TRAINING = "the model is in eval mode while training: call mymodel.train() at the start of every epoch"
NO_GRAD_WHILE_TRAINING = "the training forward runs under torch.no_grad()"
NO_EVAL = "model.eval() is not called before evaluating: dropout is still active"
NO_NO_GRAD = "evaluation runs with autograd on: wrap the loop in torch.no_grad()"
CUDA_NOTE = ("Your code moves tensors or the model to 'cuda' by name; grading ran it on the CPU. Use the `device` "
             "argument instead, so the code runs wherever it is given.")


def run(submission, file, harness, task, args, what, model):
    """The given `harness` module's `task` in the sandbox that runs `file`: an interface problem it reports (a
    changed signature, a wrong return) costs the running check only, and code that named 'cuda' gets a note."""
    from graders.problems import InterfaceError, StudentError, about

    with about(what, f"{what} on the tiny {model}"):
        got = submission.session_of(file).call(harness, task, args, label=what)
    if not isinstance(got, dict):
        raise StudentError(f"{what} sent back {type(got).__name__}, not the harness's record")
    if "interface" in got:
        raise InterfaceError(str(got["interface"]))
    if got.get("cuda"):
        submission.note(CUDA_NOTE)
    return got


def diagnosis(find):
    """What `find()` reads from the harness's record (the bug it names), or None: the record comes from the sandbox,
    so it may only name a bug the grader's own comparison found, and a malformed one names nothing."""
    try:
        return find()
    except Exception:
        return None


def results(got, key, n):
    """The list of `n` values the harness returned under `key`."""
    from graders.problems import StudentError

    value = got.get(key)
    if not isinstance(value, list) or len(value) != n:
        raise StudentError(f"the harness sent back {key} that is not a list of {n} values")
    return value


def accuracy(logits, labels, what="the model's logits"):
    """The fraction of argmax predictions equal to the labels, from logits the harness computed."""
    import torch

    from graders.checks.compare import require_tensor

    return float((require_tensor(logits, what).argmax(-1) == torch.tensor(labels)).double().mean())


def windows(events):
    """The events of each optimizer step: those after the previous step up to this one."""
    out, current = [], []
    for e in events:
        if e[0] == "step":
            out.append(current)
            current = []
        else:
            current.append(e)
    return out


def training_bug(events, batches, scheduler=True):
    """The first thing wrong with a loop that should take one optimizer step for each of `batches` batches (and
    one scheduler step with each, when the loop has a `scheduler`)."""
    steps = windows(events)
    if not steps:
        return NO_STEP
    if len(steps) != batches:
        return f"optimizer.step() ran {len(steps)} times for {batches} batches: step once per batch"
    for k, window in enumerate(steps):
        kinds = [e[0] for e in window]
        if "backward" not in kinds:
            return NO_BACKWARD
        last_backward = len(kinds) - 1 - kinds[::-1].index("backward")
        if "zero_grad" in kinds[last_backward:]:
            return ZERO_BEFORE_STEP
        if k and "zero_grad" not in kinds:
            return NO_ZERO_GRAD
        forwards = [e for e in window[:last_backward] if e[0] == "forward"]
        if forwards and not forwards[-1][1]:
            return EVAL_WHILE_TRAINING
        if forwards and not forwards[-1][2]:
            return NO_GRAD_WHILE_TRAINING
    scheduled = sum(e[0] == "scheduler_step" for e in events)
    if scheduler and scheduled != len(steps):
        return f"{NO_SCHEDULER} ({scheduled} scheduler steps for {len(steps)} optimizer steps)"
    return None


def evaluation_bug(events):
    """The first thing wrong with the forwards of an evaluation."""
    forwards = [e for e in events if e[0] == "forward"]
    if any(e[1] for e in forwards):
        return NO_EVAL
    if any(e[2] for e in forwards):
        return NO_NO_GRAD
    return None
