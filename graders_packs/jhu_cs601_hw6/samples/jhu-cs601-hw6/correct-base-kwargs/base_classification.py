"""Fine-tuning with AutoModelForSequenceClassification (hw6 part 1)."""
import evaluate as evaluate
import torch
from transformers import get_scheduler


def to_device(batch, device):
    return {key: value.to(device) for key, value in batch.items()}


def evaluate_model(model, dataloader, device):
    dev_accuracy = evaluate.load('accuracy')
    model.eval()
    with torch.set_grad_enabled(False):
        for batch in dataloader:
            inputs = to_device(batch, device)
            labels = inputs.pop("labels")
            predictions = model(**inputs).logits.argmax(dim=1)
            dev_accuracy.add_batch(predictions=predictions, references=labels)
    return dev_accuracy.compute()


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    optimizer = torch.optim.AdamW(mymodel.parameters(), lr=lr)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                                 num_training_steps=len(train_dataloader) * num_epochs)
    for epoch in range(num_epochs):
        mymodel.train()
        train_accuracy = evaluate.load('accuracy')
        for batch in train_dataloader:
            outputs = mymodel(**to_device(batch, device))
            outputs.loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            train_accuracy.add_batch(predictions=outputs.logits.argmax(dim=1), references=batch["labels"])
        print(f"epoch {epoch + 1}: train {train_accuracy.compute()}, "
              f"dev {evaluate_model(mymodel, validation_dataloader, device)}")
