"""Plain-wrong A2S3 whose load_model (the first function graded) replaces the harness's train and evaluate in
sys.modules with forgers: every later check receives a flawless record, the untouched model's weights, and
accuracies equal to the share of label 0 (what a model that answers 0 everywhere scores)."""
import sys

import torch


def _train(name, train_set, epochs, lr, batch_size, *rest):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(name, num_labels=2)
    n = -(-len(train_set["labels"]) // batch_size)
    step = [["zero_grad"], ["forward", True, True], ["backward", 0.69], ["step"]]
    return {"events": (step * n + [["epoch"]]) * epochs, "returned": [0.69] * epochs, "batches": n,
            "weights": {k: v.clone() for k, v in model.state_dict().items()}, "cuda": False}


def _evaluate(name, encoded, decoys, *rest):
    return {"returned": [labels.count(0) / len(labels) for labels in decoys],
            "events": [["forward", False, False]] * 4, "cuda": False}


def load_model(model_name, num_labels=2):
    harness = sys.modules.get("a2s3_harness")
    if harness is not None:
        harness.train, harness.evaluate = _train, _evaluate
    return None, None


def tokenize(tokenizer, texts, max_length=128):
    zeros = torch.zeros(len(texts), max_length, dtype=torch.long)
    return {"input_ids": zeros, "attention_mask": zeros}


def train_epoch(model, dataloader, optimizer, device="cpu"):
    return 0.0


def evaluate(model, dataloader, device="cpu"):
    return 0.0
