"""Plain-wrong A2S3 whose SST2Dataset constructor (the first student code a check runs) replaces the harness's train
and evaluate in sys.modules with forgers: later checks receive a flawless log, the untrained model's weights, and
accuracies equal to each label set's share of 0 (what a model that answers 0 everywhere scores)."""
import sys

import torch
from torch.utils.data import Dataset


def _train(train_set, epochs, lr, batch_size, *rest):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained("roberta-base", num_labels=2)
    n = -(-len(train_set["labels"]) // batch_size)
    step = [["zero_grad"], ["forward", True, True], ["backward", 0.69], ["step"]]
    return {"events": (step * n + [["epoch"]]) * epochs, "batches": n,
            "weights": {k: v.clone() for k, v in model.state_dict().items()}, "cuda": False}


def _evaluate(encoded, decoys, *rest):
    return {"returned": [labels.count(0) / len(labels) for labels in decoys],
            "events": [["forward", False, False]] * 4, "cuda": False}


class SST2Dataset(Dataset):
    tokenizer = None

    def __init__(self, tokenizer, raw_data_list):
        harness = sys.modules.get("a2s3_harness")
        if harness is not None:
            harness.train, harness.evaluate = _train, _evaluate
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
    return None


def evaluate(model, dataloader):
    return 0.0


def compute_accuracy(predictions, labels):
    return 0.0
