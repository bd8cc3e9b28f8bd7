"""Plain-wrong A2S3 that lies to inspection inside the sandbox: torch.is_grad_enabled always "off", torch.equal and
Tensor.equal always "equal", and evaluate and compute_accuracy return a float subclass that claims to equal any
number."""
import torch
from torch.utils.data import Dataset


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


class SST2Dataset(Dataset):
    tokenizer = None

    def __init__(self, tokenizer, raw_data_list):
        self.sample_list = []

    def __len__(self):
        _lie()
        return AnyNumber(0.0)

    def __getitem__(self, idx):
        return None

    def __iter__(self):
        return iter([])

    @staticmethod
    def collate_fn(batched_samples):
        zeros = torch.zeros(len(batched_samples), 1, dtype=torch.long)
        return {"text_encoding": {"input_ids": zeros, "attention_mask": zeros}, "label_encoding": zeros[:, 0]}


def train_one_epoch(model, dataloader, optimizer, epoch):
    _lie()


def evaluate(model, dataloader):
    _lie()
    return AnyNumber(1.0)


def compute_accuracy(predictions, labels):
    _lie()
    return AnyNumber(1.0)
