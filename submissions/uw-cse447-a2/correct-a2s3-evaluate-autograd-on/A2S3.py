"""A2S3: fine-tuning a pretrained encoder for sentence classification with Hugging Face transformers."""
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def load_model(model_name, num_labels=2):
    """The pretrained tokenizer and a classification model (a fresh head on the pretrained encoder)."""
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    model = AutoModelForSequenceClassification.from_pretrained(model_name, num_labels=num_labels)
    return tokenizer, model


def tokenize(tokenizer, texts, max_length=128):
    """A batch of texts as tensors, every row padded or truncated to max_length tokens."""
    return tokenizer(texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")


def train_epoch(model, dataloader, optimizer, device="cpu"):
    """One pass over the data; returns the mean training loss."""
    model.train()
    total = 0.0
    for batch in dataloader:
        batch = {k: v.to(device) for k, v in batch.items()}
        optimizer.zero_grad()
        outputs = model(**batch)
        outputs.loss.backward()
        optimizer.step()
        total += outputs.loss.item()
    return total / len(dataloader)


def evaluate(model, dataloader, device="cpu"):
    """Accuracy of the argmax predictions."""
    model.eval()
    correct, total = 0, 0
    if True:
        for batch in dataloader:
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            correct += (logits.argmax(dim=-1) == batch["labels"]).sum().item()
            total += batch["labels"].size(0)
    return correct / total
