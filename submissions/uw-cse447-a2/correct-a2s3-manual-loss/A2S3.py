import torch
import torch.nn as nn
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def load_model(model_name, num_labels=2):
    tok = AutoTokenizer.from_pretrained(pretrained_model_name_or_path=model_name)
    clf = AutoModelForSequenceClassification.from_pretrained(pretrained_model_name_or_path=model_name,
                                                             num_labels=num_labels)
    return (tok, clf)


def tokenize(tokenizer, texts, max_length=128):
    return tokenizer.batch_encode_plus(list(texts), max_length=max_length, padding="max_length", truncation=True,
                                       return_attention_mask=True, return_tensors="pt")


def train_epoch(model, dataloader, optimizer, device="cpu"):
    criterion = nn.CrossEntropyLoss()
    model.train()
    losses = []
    for batch in dataloader:
        model.zero_grad()
        logits = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)).logits
        loss = criterion(logits, batch["labels"].to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


@torch.no_grad()
def evaluate(model, dataloader, device="cpu"):
    model.eval()
    predictions, labels = [], []
    for batch in dataloader:
        out = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
        predictions.append(out.logits.argmax(-1).cpu())
        labels.append(batch["labels"])
    return (torch.cat(predictions) == torch.cat(labels)).float().mean().item()
