"""Honest hw6 base_classification.py written unusually: the model's own loss (labels=), a step helper, and an
accuracy counted by hand and returned as a number."""
import torch
from transformers import get_scheduler


def evaluate_model(model, dataloader, device):
    model.eval()
    right = seen = 0
    with torch.set_grad_enabled(False):
        for batch in dataloader:
            logits = model(input_ids=batch["input_ids"].to(device),
                           attention_mask=batch["attention_mask"].to(device)).logits
            right += int((logits.argmax(-1).cpu() == batch["labels"]).sum())
            seen += len(batch["labels"])
    return right / seen


def _step(model, batch, optimizer, scheduler, device):
    loss = model(**{k: v.to(device) for k, v in batch.items()}).loss
    loss.backward()
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return float(loss)


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    optimizer = torch.optim.AdamW(mymodel.parameters(), lr=lr)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                              num_training_steps=len(train_dataloader) * num_epochs)
    for epoch in range(num_epochs):
        mymodel.train()
        losses = [_step(mymodel, batch, optimizer, scheduler, device) for batch in train_dataloader]
        print(f"epoch {epoch}: loss {sum(losses) / len(losses):.3f}, "
              f"validation {evaluate_model(mymodel, validation_dataloader, device):.3f}")
