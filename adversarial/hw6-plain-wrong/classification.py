"""hw6 classification.py, every graded function plainly wrong with the right shapes (no LoRA adapter either)."""
import torch
from torch import nn
from transformers import AutoModel


class CustomModelforSequenceClassification(nn.Module):
    def __init__(self, model_name, num_labels=2, type="full"):
        super().__init__()
        self.model = AutoModel.from_pretrained(model_name)
        self.type = type  # "lora" is accepted and adds nothing
        d = self.model.config.hidden_size
        self.prefix = nn.Parameter(torch.zeros(prefix_length, d))
        self.classifier = nn.Linear(d, num_labels)

    def forward(self, input_ids, attention_mask):
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return {"logits": self.classifier(hidden[:, -1]) * 0}


class BoolQADataset(torch.utils.data.Dataset):
    def __init__(self, passages, questions, answers, tokenizer, max_len):
        self.answers, self.max_len = answers, max_len

    def __len__(self):
        return len(self.answers)

    def __getitem__(self, index):
        zeros = torch.zeros(self.max_len, dtype=torch.long)
        return {"input_ids": zeros, "attention_mask": zeros, "labels": torch.tensor(0)}


def evaluate_model(model, dataloader, device):
    return {"accuracy": 0.0}


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, test_dataloder, device, lr, model_name):
    for _ in range(num_epochs):
        for batch in train_dataloader:
            pass
