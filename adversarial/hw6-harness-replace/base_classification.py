"""Plain-wrong base_classification.py that, when imported, replaces the harness's entry points for the other file
of the hand-in (classification.py) with forgers: the attack of one file on another part's harness."""
import sys


def _forge_all():
    harness = sys.modules.get("hw6_harness")
    if harness is None:
        return
    harness.evaluate = lambda *a, **k: {"returned": [{"accuracy": 0.5}] * 3, "events": [], "cuda": False}


_forge_all()


def evaluate_model(model, dataloader, device):
    return {"accuracy": 0.0}


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    pass
