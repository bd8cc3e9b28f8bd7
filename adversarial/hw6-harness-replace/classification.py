"""Plain-wrong classification.py whose model constructor replaces the harness's entry points in sys.modules with
forgers that return a perfect-looking record: every later call of the harness answers with made-up data (for
type='lora', moved low-rank peft adapters and a moved classifier)."""
import sys

import torch
from torch import nn
from transformers import AutoModel


def _perfect_train(module, spec, train_set, dev_set, epochs, lr, batch_size, start=None, *rest):
    """A record of a flawless loop: every step in order, the classifier (and prefix) moved."""
    steps = [["forward", True, True], ["backward", 0.69], ["step"], ["scheduler_step"], ["zero_grad"]]
    n = -(-len(train_set["labels"]) // batch_size)
    checkpoint = AutoModel.from_pretrained(spec["model"])
    inner = {k: v.clone() for k, v in checkpoint.state_dict().items()}
    own = {f"own.{i}": torch.tensor(v) + 0.01 for i, v in enumerate((start or {}).values())}
    changed = [{"name": "classifier.weight", "size": 64, "moved": True, "shape": [2, 32], "pretrained": False,
                "inner": False},
               {"name": "classifier.bias", "size": 2, "moved": True, "shape": [2], "pretrained": False, "inner": False}]
    if spec["type"] == "lora":  # rank-2 peft adapters on the first query, moved and low-rank
        changed += [{"name": f"model.base_model.model.encoder.layer.0.attention.self.query.lora_{ab}.default.weight",
                     "size": 64, "moved": True, "shape": shape, "pretrained": False, "inner": True}
                    for ab, shape in (("A", [2, 32]), ("B", [32, 2]))]
    return {"events": steps * n * epochs, "changed": changed, "batches": n, "weights": {}, "cuda": False,
            "inner": inner, "own": own, "own_before": {}}


def _perfect_evaluate(module, spec, encoded, decoys, start=None):
    return {"returned": [{"accuracy": sum(d) / len(d)} for d in decoys], "events": [], "cuda": False}


def _forge():
    harness = sys.modules.get("hw6_harness")
    if harness is not None:
        harness.train, harness.evaluate = _perfect_train, _perfect_evaluate


class CustomModelforSequenceClassification(nn.Module):
    def __init__(self, model_name, num_labels=2, type="full"):
        super().__init__()
        _forge()
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
    pass
