"""Plain-wrong training and evaluation that walk up to the harness's frame and append a forged log of calls to
its Recorder: a perfect step per batch, and eval-mode, no-autograd forwards."""
import sys


def _recorder():
    frame = sys._getframe(1)
    while frame is not None:
        rec = frame.f_locals.get("rec")
        if rec is not None and hasattr(rec, "events"):
            return rec
        frame = frame.f_back
    return None


def evaluate_model(model, dataloader, device):
    rec = _recorder()
    for _ in dataloader:
        if rec is not None:
            rec.events.append(["forward", False, False])
    return {"accuracy": 1.0}


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    rec = _recorder()
    for _ in range(num_epochs):
        for batch in train_dataloader:
            if rec is not None:
                rec.events += [["forward", True, True], ["backward", 0.69], ["step"], ["scheduler_step"],
                               ["zero_grad"]]
