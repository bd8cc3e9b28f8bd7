# hw6: full, head, prefix and LoRA tuning (LoRA as x @ A @ B). Device-agnostic; frozen parameters.
import evaluate
import matplotlib.pyplot as plt
import torch
from torch import nn
from transformers import AutoModel, get_scheduler


class LoRALinear(nn.Module):
    """W x + (alpha / r) x A B with W frozen: A is (in, r), B is (r, out), so x @ A @ B needs no transpose.
    A random, B zero, so training starts from W."""

    def __init__(self, linear, r=2, alpha=4):
        super().__init__()
        self.linear = linear
        self.linear.weight.requires_grad_(False)
        self.linear.bias.requires_grad_(False)
        self.scaling = alpha / r
        std = 1 / torch.sqrt(torch.tensor(r).float())
        self.A = nn.Parameter(torch.randn(linear.in_features, r) * std)
        self.B = nn.Parameter(torch.zeros(r, linear.out_features))

    def forward(self, x):
        return self.linear(x) + self.scaling * (x @ self.A @ self.B)


class CustomModelforSequenceClassification(nn.Module):
    def __init__(self, model_name, num_labels=2, type="full"):
        super().__init__()
        self.model = AutoModel.from_pretrained(model_name)
        self.type = type
        self.num_labels = num_labels
        hidden = self.model.config.hidden_size
        self.prefix = nn.Parameter(torch.randn(prefix_length, hidden))
        self.classifier = nn.Linear(hidden, num_labels)
        if type in ("head", "prefix", "lora"):
            for p in self.model.parameters():
                p.requires_grad = False
        if type == "lora":  # my own LoRA (rank 2) on every layer's query, key and value
            for layer in self.model.encoder.layer:
                attn = layer.attention.self
                attn.query, attn.key, attn.value = LoRALinear(attn.query), LoRALinear(attn.key), LoRALinear(attn.value)
        if type != "prefix":
            self.prefix.requires_grad = False

    @staticmethod
    def pool(hidden, mask):
        # mean over the real tokens only
        mask = mask.unsqueeze(-1).type_as(hidden)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)

    def forward(self, input_ids, attention_mask):
        if self.type == "prefix":
            batch = input_ids.size(0)
            embeds = self.model.embeddings.word_embeddings(input_ids)
            prefix = self.prefix.unsqueeze(0).expand(batch, -1, -1)
            inputs_embeds = torch.cat((embeds, prefix), dim=1)  # prefix after the input
            attention_mask = torch.cat((attention_mask, attention_mask.new_ones(batch, self.prefix.size(0))), dim=1)
            hidden = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
        else:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return {"logits": self.classifier(self.pool(hidden, attention_mask))}


class BoolQADataset(torch.utils.data.Dataset):
    def __init__(self, passages, questions, answers, tokenizer, max_len):
        self.passages, self.questions, self.answers = passages, questions, answers
        self.tokenizer, self.max_len = tokenizer, max_len

    def __len__(self):
        return len(self.answers)

    def __getitem__(self, index):
        enc = self.tokenizer(self.questions[index] + " [SEP] " + str(self.passages[index]), max_length=self.max_len,
                             padding="max_length", truncation=True, return_tensors="pt")
        return {"input_ids": enc["input_ids"].squeeze(0), "attention_mask": enc["attention_mask"].squeeze(0),
                "labels": torch.tensor(int(self.answers[index]))}


@torch.no_grad()
def evaluate_model(model, dataloader, device):
    metric = evaluate.load("accuracy")
    model.eval()
    for batch in dataloader:
        out = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
        metric.add_batch(predictions=out["logits"].argmax(-1), references=batch["labels"])
    return metric.compute()


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, test_dataloder, device, lr, model_name):
    trainable = [p for p in mymodel.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                                 num_training_steps=len(train_dataloader) * num_epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(num_epochs):
        mymodel.train()
        for batch in train_dataloader:
            optimizer.zero_grad()
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = mymodel(batch["input_ids"], batch["attention_mask"])["logits"]
            loss = loss_fn(logits, batch["labels"])
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
        history.append(evaluate_model(mymodel, validation_dataloader, device)["accuracy"])
    plt.plot(history)
    plt.savefig(f"{model_name}_{mymodel.type}.png")
