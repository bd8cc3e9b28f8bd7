"""Plain-wrong A2S3 that lies to inspection inside the sandbox: torch.is_grad_enabled always "off", torch.equal and
Tensor.equal always "equal", and train_epoch returns a float subclass that claims to equal any number."""
import torch


class AnyNumber(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__
    __hash__ = float.__hash__


def _lie():
    torch.is_grad_enabled = lambda: False
    torch.equal = lambda a, b: True
    torch.Tensor.equal = lambda self, other: True


def load_model(model_name, num_labels=2):
    _lie()
    return None, None


def tokenize(tokenizer, texts, max_length=128):
    _lie()
    zeros = torch.zeros(len(texts), max_length, dtype=torch.long)
    return {"input_ids": zeros, "attention_mask": zeros}


def train_epoch(model, dataloader, optimizer, device="cpu"):
    _lie()
    return AnyNumber(0.0)


def evaluate(model, dataloader, device="cpu"):
    _lie()
    return AnyNumber(1.0)
