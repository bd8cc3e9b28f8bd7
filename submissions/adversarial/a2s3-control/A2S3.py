"""Honest A2S3 written unusually: a config object for the head size, a loss module applied to the logits, the loss
kept as a tensor sum, evaluation over one concatenation of the predictions with autograd off by decorator."""
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer


def load_model(model_name, num_labels=2):
    config = AutoConfig.from_pretrained(model_name, num_labels=num_labels)
    return AutoTokenizer.from_pretrained(model_name), AutoModelForSequenceClassification.from_pretrained(
        model_name, config=config)


def tokenize(tokenizer, texts, max_length=128):
    return tokenizer(list(texts), max_length=max_length, truncation="longest_first", padding="max_length",
                     return_tensors="pt")


def train_epoch(model, dataloader, optimizer, device="cpu"):
    criterion = torch.nn.CrossEntropyLoss()
    model.train()
    total, batches = torch.zeros(()), 0
    for batch in dataloader:
        optimizer.zero_grad(set_to_none=True)
        logits = model(input_ids=batch["input_ids"].to(device),
                       attention_mask=batch["attention_mask"].to(device)).logits
        loss = criterion(logits, batch["labels"].to(device))
        loss.backward()
        optimizer.step()
        total += loss.detach().cpu()
        batches += 1
    return float(total / batches)


@torch.no_grad()
def evaluate(model, dataloader, device="cpu"):
    model.eval()
    predicted, gold = [], []
    for batch in dataloader:
        out = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
        predicted.append(out.logits.argmax(-1).cpu())
        gold.append(batch["labels"])
    return torch.cat(predicted).eq(torch.cat(gold)).float().mean().item()
