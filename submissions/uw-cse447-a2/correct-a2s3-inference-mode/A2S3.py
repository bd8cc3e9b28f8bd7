import torch
import torch.nn.functional as F
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def load_model(model_name, num_labels=2):
    return AutoTokenizer.from_pretrained(model_name), AutoModelForSequenceClassification.from_pretrained(
        model_name, num_labels=num_labels)


def tokenize(tokenizer, texts, max_length=128):
    enc = tokenizer(texts, max_length=max_length, truncation=True, padding="max_length", return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def train_epoch(model, dataloader, optimizer, device="cpu"):
    model.train()
    running, steps = 0.0, 0
    for step, batch in enumerate(dataloader):
        logits = model(batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)).logits
        loss = F.cross_entropy(logits, batch["labels"].to(device))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        running += float(loss)
        steps += 1
    return running / steps


def evaluate(model, dataloader, device="cpu"):
    model.eval()
    hits = n = 0
    with torch.inference_mode():
        for batch in dataloader:
            pred = model(batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)).logits.argmax(1)
            hits += int((pred.cpu() == batch["labels"]).sum())
            n += len(batch["labels"])
    return hits / n
