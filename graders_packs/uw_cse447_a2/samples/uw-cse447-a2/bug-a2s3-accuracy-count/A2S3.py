"""A2S3 whose compute_accuracy returns the number of correct predictions."""
import torch
from torch.utils.data import Dataset


class SST2Dataset(Dataset):
    tokenizer = None

    def __init__(self, tokenizer, raw_data_list):
        SST2Dataset.tokenizer = tokenizer
        self.sample_list = [SST2Example.from_dict(data) for data in raw_data_list]

    def __len__(self):
        return len(self.sample_list)

    def __getitem__(self, idx):
        return self.sample_list[idx]

    def __iter__(self):
        return iter(self.sample_list)

    @staticmethod
    def collate_fn(batched_samples):
        batched_text = [sample.text for sample in batched_samples]
        batched_label = [sample.label for sample in batched_samples]
        text_encoding = SST2Dataset.tokenizer(batched_text, padding=True, max_length=512, truncation=True,
                                              return_tensors="pt")
        label_encoding = torch.LongTensor(batched_label)
        return {"text_encoding": text_encoding, "label_encoding": label_encoding}


def train_one_epoch(model, dataloader, optimizer, epoch):
    model.train()
    for batch in dataloader:
        text_encoding = batch["text_encoding"].to(model.device)
        label_encoding = batch["label_encoding"].to(model.device)
        loss = model(input_ids=text_encoding["input_ids"], attention_mask=text_encoding["attention_mask"],
                     labels=label_encoding).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def evaluate(model, dataloader):
    model.eval()
    all_predictions, all_labels = [], []
    for batch in dataloader:
        with torch.no_grad():
            text_encoding = batch["text_encoding"].to(model.device)
            label_encoding = batch["label_encoding"].to(model.device)
            logits = model(input_ids=text_encoding["input_ids"],
                           attention_mask=text_encoding["attention_mask"]).logits
            all_predictions += torch.argmax(logits, dim=1)
            all_labels += label_encoding
    return compute_accuracy(torch.Tensor(all_predictions), torch.Tensor(all_labels))


def compute_accuracy(predictions, labels):
    return torch.sum(predictions == labels).item()
