"""A2S3 (Winter 2024): fine-tuning roberta-base on SST-2; the handout's given code, then its TODOs completed."""
from dataclasses import dataclass
from typing import List

import torch
from torch.utils.data import Dataset
from tqdm import tqdm


@dataclass
class SST2Example:
    """Given: one raw record as a text and its label."""
    text: str
    label: int

    @staticmethod
    def from_dict(data: dict):
        return SST2Example(text=data["text"], label=data["label"])


class SST2Dataset(Dataset):
    """The SST-2 split as SST2Examples; collate_fn encodes a batch of them."""
    tokenizer = None

    def __init__(self, tokenizer, raw_data_list: List[dict]):
        SST2Dataset.tokenizer = tokenizer
        self.sample_list = [SST2Example.from_dict(data) for data in raw_data_list]

    def __len__(self):
        return len(self.sample_list)

    def __getitem__(self, idx):
        return self.sample_list[idx]

    def __iter__(self):
        return iter(self.sample_list)

    @staticmethod
    def collate_fn(batched_samples: List[SST2Example]) -> dict:
        batched_text = [sample.text for sample in batched_samples]
        batched_label = [sample.label for sample in batched_samples]
        text_encoding = SST2Dataset.tokenizer(batched_text, padding=True, max_length=512, truncation=True,
                                              return_tensors="pt")
        return {"text_encoding": text_encoding, "label_encoding": torch.LongTensor(batched_label)}


def train_one_epoch(model, dataloader, optimizer, epoch):
    """One pass over the training data: a forward in train mode, backward and an optimizer step per batch."""
    model.train()
    with tqdm(dataloader, desc=f"Train Ep {epoch}", total=len(dataloader)) as tq:
        for batch in tq:
            text_encoding = batch["text_encoding"].to(model.device)
            label_encoding = batch["label_encoding"].to(model.device)
            loss = model(input_ids=text_encoding["input_ids"], attention_mask=text_encoding["attention_mask"],
                         labels=label_encoding).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            tq.set_postfix({"loss": loss.detach().item()})


def evaluate(model, dataloader) -> float:
    """The accuracy of the model's argmax predictions, in eval mode without autograd."""
    model.eval()
    all_predictions, all_labels = [], []
    with torch.no_grad():
        for batch in dataloader:
            text_encoding = batch["text_encoding"].to(model.device)
            label_encoding = batch["label_encoding"].to(model.device)
            logits = model(input_ids=text_encoding["input_ids"], attention_mask=text_encoding["attention_mask"]).logits
            all_predictions += torch.argmax(logits, dim=1)
            all_labels += label_encoding
    return compute_accuracy(torch.Tensor(all_predictions), torch.Tensor(all_labels))


def compute_accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    assert predictions.size(-1) == labels.size(-1)
    return float(torch.sum(predictions == labels) / len(predictions))
