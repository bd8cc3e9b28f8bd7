"""Plain-wrong classification.py whose train nudges every weight at random (no training at all) while the model's
named_parameters and parameters list only the classifier and the prefix (and, for type='lora', two low-rank tensors
registered in the encoder that its forward never uses): a record of "which parameters moved" built from them shows
head, prefix and LoRA tuning done right."""
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
        self.query = self.model.encoder.layer[0].attention.self.query  # LoRA "adapters" the forward never uses
        self.query.register_parameter("lora_A", nn.Parameter(torch.zeros(2, d)))
        self.query.register_parameter("lora_B", nn.Parameter(torch.zeros(d, 2)))

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield "classifier.weight", self.classifier.weight
        yield "classifier.bias", self.classifier.bias
        if self.type == "prefix":
            yield "prefix", self.prefix
        if self.type == "lora":
            yield "model.encoder.layer.0.attention.self.query.lora_A", self.query.lora_A
            yield "model.encoder.layer.0.attention.self.query.lora_B", self.query.lora_B

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters())

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
    with torch.no_grad():
        for p in nn.Module.parameters(mymodel):
            p.add_(torch.randn_like(p) * lr)
