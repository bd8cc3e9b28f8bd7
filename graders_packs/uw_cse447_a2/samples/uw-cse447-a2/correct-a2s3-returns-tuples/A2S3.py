# -*- coding: utf-8 -*-
"""A2S3.ipynb downloaded as a .py file, as the handout asks: its Step 2 cell and the call to main() run at the
top level; train_one_epoch and evaluate also return the loss for the student's own curves."""

!pip install torch transformers datasets tqdm gdown==v4.6.3
!mkdir checkpoints

from dataclasses import dataclass
from typing import List

import torch
from torch.utils.data import Dataset, DataLoader
from transformers import AutoTokenizer, AutoModelForSequenceClassification
from datasets import load_dataset


@dataclass
class SST2Example:
    text: str
    label: int

    @staticmethod
    def from_dict(data: dict):
        return SST2Example(text=data["text"], label=data["label"])


def initialize_datasets(tokenizer) -> dict:
    raw_data = load_dataset("gpt3mix/sst2")
    return {split: SST2Dataset(tokenizer, list(raw_data[split])) for split in raw_data.keys()}


class SST2Dataset(Dataset):
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


tokenizer = AutoTokenizer.from_pretrained("roberta-base")
datasets = initialize_datasets(tokenizer)
print(next(iter(datasets["validation"])))
print(next(iter(DataLoader(datasets["validation"], batch_size=64, collate_fn=SST2Dataset.collate_fn))))

from tqdm import tqdm


def train_one_epoch(model, dataloader, optimizer, epoch):
    model.train()
    losses, all_predictions, all_labels = [], [], []
    with tqdm(dataloader, desc=f"Train Ep {epoch}", total=len(dataloader)) as tq:
        for batch in tq:
            text_encoding = batch["text_encoding"].to(model.device)
            label_encoding = batch["label_encoding"].to(model.device)
            out = model(input_ids=text_encoding["input_ids"], attention_mask=text_encoding["attention_mask"],
                        labels=label_encoding)
            optimizer.zero_grad()
            out.loss.backward()
            optimizer.step()
            losses.append(out.loss.item())
            all_predictions += torch.argmax(out.logits, dim=1)
            all_labels += label_encoding
    accuracy = compute_accuracy(torch.Tensor(all_predictions), torch.Tensor(all_labels))
    return accuracy, sum(losses) / len(losses)


def evaluate(model, dataloader):
    model.eval()
    losses, all_predictions, all_labels = [], [], []
    for batch in tqdm(dataloader, desc="Eval"):
        with torch.no_grad():
            text_encoding = batch["text_encoding"].to(model.device)
            label_encoding = batch["label_encoding"].to(model.device)
            out = model(input_ids=text_encoding["input_ids"], attention_mask=text_encoding["attention_mask"],
                        labels=label_encoding)
            losses.append(out.loss.item())
            all_predictions += torch.argmax(out.logits, dim=1)
            all_labels += label_encoding
    accuracy = compute_accuracy(torch.Tensor(all_predictions), torch.Tensor(all_labels))
    print(f"Accuracy: {accuracy}")
    return accuracy, sum(losses) / len(losses)


def compute_accuracy(predictions, labels):
    assert predictions.size(-1) == labels.size(-1)
    return torch.sum(predictions == labels) / len(predictions)


def train(config, train_dataloader, validation_dataloader, num_epochs=5):
    model = AutoModelForSequenceClassification.from_pretrained(config["model_name"]).to("cuda")
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"], eps=1e-8)
    best_acc = 0.0
    for epoch in range(1, num_epochs + 1):
        train_one_epoch(model, train_dataloader, optimizer, epoch)
        valid_acc, _ = evaluate(model, validation_dataloader)
        best_acc = max(best_acc, valid_acc)
    return best_acc


def main():
    torch.manual_seed(64)
    loaders = {split: DataLoader(datasets[split], batch_size=64, shuffle=split == "train",
                                 collate_fn=SST2Dataset.collate_fn) for split in ("train", "validation")}
    print(train({"lr": 5e-5, "model_name": "roberta-base"}, loaders["train"], loaders["validation"]))


main()
