import evaluate
import torch
from transformers import get_scheduler


@torch.no_grad()
def evaluate_model(model, dataloader, device):
    model.eval()
    right = total = 0
    for batch in dataloader:
        logits = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)).logits
        right += (logits.argmax(dim=-1).cpu() == batch["labels"]).sum().item()
        total += len(batch["labels"])
    return {"accuracy": right / total}


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    optimizer = torch.optim.AdamW(mymodel.parameters(), lr=lr)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                                 num_training_steps=len(train_dataloader) * num_epochs)
    for epoch in range(num_epochs):
        mymodel.train()
        for batch in train_dataloader:
            mymodel.zero_grad()
            out = mymodel(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device),
                          labels=batch["labels"].to(device))
            out.loss.backward()  # the model's own cross-entropy
            optimizer.step()
            lr_scheduler.step()
        print(epoch, evaluate_model(mymodel, validation_dataloader, device))
