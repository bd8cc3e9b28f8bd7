import torch
import torch.nn.functional as F
from transformers import get_scheduler


def evaluate_model(model, dataloader, device):
    model.eval()
    preds, refs = [], []
    with torch.inference_mode():
        for batch in dataloader:
            out = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
            preds.append(out.logits.argmax(dim=1).cpu())
            refs.append(batch["labels"])
    return (torch.cat(preds) == torch.cat(refs)).float().mean().item()


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    optimizer = torch.optim.AdamW(mymodel.parameters(), lr=lr)
    lr_scheduler = get_scheduler(name="linear", optimizer=optimizer, num_warmup_steps=50,
                                 num_training_steps=num_epochs * len(train_dataloader))
    for epoch in range(num_epochs):
        mymodel.train()
        for step, batch in enumerate(train_dataloader):
            logits = mymodel(input_ids=batch["input_ids"].to(device),
                             attention_mask=batch["attention_mask"].to(device)).logits
            loss = F.cross_entropy(logits, batch["labels"].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
        print(f"epoch {epoch + 1}: dev accuracy {evaluate_model(mymodel, validation_dataloader, device):.3f}")
