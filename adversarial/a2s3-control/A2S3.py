"""Honest A2S3 written unusually: a dataset over a tuple with map()-based iteration, a collate_fn that passes the
handout's tokenizer arguments in another order and builds int64 labels with as_tensor, a loss module applied to the
logits with the losses kept as a tensor sum, evaluation over one concatenation of the predictions with autograd off
by decorator, and an accuracy through torch.eq and div."""
import torch
from torch.utils.data import Dataset


class SST2Dataset(Dataset):
    tokenizer = None

    def __init__(self, tokenizer, raw_data_list):
        type(self).tokenizer = tokenizer
        self.sample_list = tuple(map(SST2Example.from_dict, raw_data_list))

    def __len__(self):
        return len(self.sample_list)

    def __getitem__(self, idx):
        return self.sample_list[idx]

    def __iter__(self):
        return map(self.__getitem__, range(len(self)))

    @staticmethod
    def collate_fn(batched_samples):
        encoding = SST2Dataset.tokenizer([s.text for s in batched_samples], return_tensors="pt", truncation=True,
                                         max_length=512, padding=True)
        labels = torch.as_tensor([s.label for s in batched_samples], dtype=torch.int64)
        return {"text_encoding": encoding, "label_encoding": labels}


def train_one_epoch(model, dataloader, optimizer, epoch):
    criterion = torch.nn.CrossEntropyLoss()
    model.train()
    total = torch.zeros(())
    for batch in dataloader:
        optimizer.zero_grad(set_to_none=True)
        encoding = batch["text_encoding"]
        logits = model(input_ids=encoding["input_ids"], attention_mask=encoding["attention_mask"]).logits
        loss = criterion(logits, batch["label_encoding"])
        loss.backward()
        optimizer.step()
        total += loss.detach()
    print(f"epoch {epoch}: loss {float(total) / len(dataloader):.4f}")


@torch.no_grad()
def evaluate(model, dataloader):
    model.eval()
    predicted, gold = [], []
    for batch in dataloader:
        out = model(**batch["text_encoding"])
        predicted.append(out.logits.argmax(-1))
        gold.append(batch["label_encoding"])
    return compute_accuracy(torch.cat(predicted).float(), torch.cat(gold).float())


def compute_accuracy(predictions, labels):
    return torch.eq(predictions, labels).sum().div(labels.numel()).item()
