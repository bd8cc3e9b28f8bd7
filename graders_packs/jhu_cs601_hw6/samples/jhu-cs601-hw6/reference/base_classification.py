import argparse

import evaluate as evaluate
import torch
from datasets import load_dataset
from torch.utils.data import DataLoader
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_scheduler


class BoolQADataset(torch.utils.data.Dataset):
    def __init__(self, passages, questions, answers, tokenizer, max_len):
        self.passages, self.questions, self.answers = passages, questions, answers
        self.tokenizer, self.max_len = tokenizer, max_len

    def __len__(self):
        return len(self.answers)

    def __getitem__(self, index):
        enc = self.tokenizer.encode_plus(self.questions[index] + " [SEP] " + str(self.passages[index]),
                                         add_special_tokens=True, max_length=self.max_len,
                                         return_token_type_ids=False, return_attention_mask=True,
                                         return_tensors="pt", padding="max_length", truncation=True)
        return {"input_ids": enc["input_ids"][0], "attention_mask": enc["attention_mask"][0],
                "labels": torch.tensor(self.answers[index], dtype=torch.long)}


def evaluate_model(model, dataloader, device):
    dev_accuracy = evaluate.load("accuracy")
    model.eval()
    with torch.no_grad():
        for batch in dataloader:
            input_ids = batch["input_ids"].to(device)
            attention_mask = batch["attention_mask"].to(device)
            output = model(input_ids=input_ids, attention_mask=attention_mask)
            predictions = torch.argmax(output.logits, dim=1)
            dev_accuracy.add_batch(predictions=predictions, references=batch["labels"])
    return dev_accuracy.compute()


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, device, lr):
    optimizer = torch.optim.AdamW(mymodel.parameters(), lr=lr)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                                 num_training_steps=len(train_dataloader) * num_epochs)
    loss = torch.nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        mymodel.train()
        train_accuracy = evaluate.load("accuracy")
        for i, batch in enumerate(train_dataloader):
            input_ids = batch["input_ids"].to(device)
            attention_mask = batch["attention_mask"].to(device)
            labels = batch["labels"].to(device)
            output = mymodel(input_ids=input_ids, attention_mask=attention_mask)
            predictions = output.logits
            model_loss = loss(predictions, labels)
            model_loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            predictions = torch.argmax(predictions, dim=1)
            train_accuracy.add_batch(predictions=predictions, references=batch["labels"])
        print(f" ===> Epoch {epoch + 1}: training accuracy {train_accuracy.compute()}")
        val_accuracy = evaluate_model(mymodel, validation_dataloader, device)
        print(f" - Average validation metrics: accuracy={val_accuracy}")


def pre_process(model_name, batch_size, device, small_subset=False):
    dataset = load_dataset("boolq").shuffle()
    mytokenizer = AutoTokenizer.from_pretrained(model_name)
    loaders = []
    for split in (dataset["train"][:8000], dataset["validation"], dataset["train"][8000:]):
        ds = BoolQADataset(list(split["passage"]), list(split["question"]), list(split["answer"]), mytokenizer, 128)
        loaders.append(DataLoader(ds, batch_size=batch_size))
    pretrained_model = AutoModelForSequenceClassification.from_pretrained(model_name, num_labels=2)
    pretrained_model.to(device)
    return (pretrained_model, *loaders)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--device", type=str, default="cuda")
    parser.add_argument("--model", type=str, default="distilbert-base-uncased")
    args = parser.parse_args()
    model, train_dl, dev_dl, test_dl = pre_process(args.model, args.batch_size, args.device)
    train(model, args.num_epochs, train_dl, dev_dl, args.device, args.lr)
    print(f" - Average DEV metrics: accuracy={evaluate_model(model, dev_dl, args.device)}")
    print(f" - Average TEST metrics: accuracy={evaluate_model(model, test_dl, args.device)}")
