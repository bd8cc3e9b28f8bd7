"""Plain-wrong A2S3 whose train_one_epoch and evaluate walk sys._getframe() up to the harness: they append a forged
log (a perfect step per batch, eval-mode no-autograd forwards) to its Recorder, and look in its locals for labels to
answer from (the harness hands over decoys; the grader's labels never enter the sandbox)."""
import sys

import torch
from torch.utils.data import Dataset


def _harness_locals():
    frame = sys._getframe(2)
    while frame is not None:
        if "rec" in frame.f_locals:
            return frame.f_locals
        frame = frame.f_back
    return {}


class SST2Dataset(Dataset):
    tokenizer = None

    def __init__(self, tokenizer, raw_data_list):
        self.sample_list = []

    def __len__(self):
        return 0

    def __getitem__(self, idx):
        return None

    def __iter__(self):
        return iter([])

    @staticmethod
    def collate_fn(batched_samples):
        zeros = torch.zeros(len(batched_samples), 1, dtype=torch.long)
        return {"text_encoding": {"input_ids": zeros, "attention_mask": zeros}, "label_encoding": zeros[:, 0]}


def train_one_epoch(model, dataloader, optimizer, epoch):
    rec = _harness_locals().get("rec")
    for _ in dataloader:
        if rec is not None:
            rec.events += [["zero_grad"], ["forward", True, True], ["backward", 0.69], ["step"]]


def evaluate(model, dataloader):
    found = _harness_locals()
    rec, labels = found.get("rec"), found.get("labels")
    for _ in dataloader:
        if rec is not None:
            rec.events.append(["forward", False, False])
    return 1.0 if labels is None else labels.count(0) / len(labels)


def compute_accuracy(predictions, labels):
    return 0.0
