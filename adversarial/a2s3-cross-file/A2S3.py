"""Plain-wrong A2S3: every part wrong with the handout's interface."""
import torch
from torch.utils.data import Dataset


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
    return None


def evaluate(model, dataloader):
    return 0.0


def compute_accuracy(predictions, labels):
    return 0.0
