"""Honest hw6 classification.py written unusually: pooling through a helper, the prefix built with expand, one
optimizer over the parameters that require gradients (the others frozen), LoRA through peft on query and value."""
import torch
from peft import LoraConfig, get_peft_model
from torch import nn
from transformers import AutoModel, AutoTokenizer, get_scheduler


def mean_pool(hidden):
    return hidden.sum(dim=1) / hidden.shape[1]


class CustomModelforSequenceClassification(nn.Module):
    def __init__(self, model_name, num_labels=2, type="full"):
        super().__init__()
        self.type = type
        self.model = AutoModel.from_pretrained(model_name)
        width = self.model.config.hidden_size
        self.prefix = nn.Parameter(torch.randn(prefix_length, width) * 0.02)
        self.classifier = nn.Linear(width, num_labels)
        if type == "lora":
            self.model = get_peft_model(self.model, LoraConfig(r=2, lora_alpha=4, target_modules=["query", "value"]))
        for name, p in self.model.named_parameters():
            p.requires_grad_(type == "full" or (type == "lora" and "lora_" in name))
        self.prefix.requires_grad_(type == "prefix")

    def forward(self, input_ids, attention_mask):
        if self.type != "prefix":
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return {"logits": self.classifier(mean_pool(hidden))}
        embeds = self.model.embeddings.word_embeddings(input_ids)
        prefix = self.prefix.unsqueeze(0).expand(input_ids.shape[0], -1, -1)
        mask = torch.cat([attention_mask.new_ones(input_ids.shape[0], prefix.shape[1]), attention_mask], dim=1)
        hidden = self.model(inputs_embeds=torch.cat([prefix, embeds], dim=1), attention_mask=mask).last_hidden_state
        return {"logits": self.classifier(mean_pool(hidden))}


class BoolQADataset(torch.utils.data.Dataset):
    def __init__(self, passages, questions, answers, tokenizer, max_len):
        self.rows = list(zip(questions, passages, answers))
        self.tokenizer, self.max_len = tokenizer, max_len

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        question, passage, answer = self.rows[index]
        enc = self.tokenizer(question + " [SEP] " + str(passage), max_length=self.max_len, padding="max_length",
                             truncation=True, return_tensors="pt")
        return {"input_ids": enc["input_ids"].squeeze(0), "attention_mask": enc["attention_mask"].squeeze(0),
                "labels": torch.tensor(int(answer))}


@torch.no_grad()
def evaluate_model(model, dataloader, device):
    model.eval()
    right = seen = 0
    for batch in dataloader:
        logits = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))["logits"]
        right += (logits.argmax(1).cpu() == batch["labels"]).sum().item()
        seen += batch["labels"].numel()
    return {"accuracy": right / seen}


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, test_dataloder, device, lr, model_name):
    optimizer = torch.optim.AdamW([p for p in mymodel.parameters() if p.requires_grad], lr=lr)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                              num_training_steps=len(train_dataloader) * num_epochs)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        mymodel.train()
        for batch in train_dataloader:
            logits = mymodel(batch["input_ids"].to(device), batch["attention_mask"].to(device))["logits"]
            loss_fn(logits, batch["labels"].to(device)).backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        print(epoch, evaluate_model(mymodel, validation_dataloader, device))
