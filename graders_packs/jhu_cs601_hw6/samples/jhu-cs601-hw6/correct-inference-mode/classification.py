import torch
import torch.nn as nn
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from tqdm import tqdm
from transformers import AutoModel, get_scheduler


class CustomModelforSequenceClassification(nn.Module):

    def __init__(self, model_name, num_labels=2, type="full"):
        super(CustomModelforSequenceClassification, self).__init__()
        self.model = AutoModel.from_pretrained(model_name)
        self.type = type
        self.num_labels = num_labels
        d = self.model.config.hidden_size
        self.prefix = torch.nn.Parameter(torch.randn(prefix_length, d, requires_grad=True))
        self.classifier = nn.Linear(d, num_labels)
        if type == "lora":  # adapters on every dense layer: attention output (d x d) and both feed-forward matrices
            self.model = get_peft_model(self.model, LoraConfig(r=4, lora_alpha=4, target_modules=["dense"]))

    def encode(self, input_ids, attention_mask):
        if self.type != "prefix":
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        n = input_ids.shape[0]
        prefix = self.prefix.repeat(n, 1, 1).to(input_ids.device)
        inputs_embeds = torch.cat([prefix, self.model.embeddings.word_embeddings(input_ids)], dim=1)
        ones = torch.ones(n, self.prefix.shape[0], device=attention_mask.device, dtype=attention_mask.dtype)
        return self.model(inputs_embeds=inputs_embeds, attention_mask=torch.cat([ones, attention_mask], 1)).last_hidden_state

    def forward(self, input_ids, attention_mask):
        hidden = self.encode(input_ids, attention_mask)
        pooled = torch.sum(hidden, dim=1) / hidden.shape[1]
        logits = self.classifier(pooled)
        return {"logits": logits}


class BoolQADataset(torch.utils.data.Dataset):
    def __init__(self, passages, questions, answers, tokenizer, max_len):
        self.passages = passages
        self.questions = questions
        self.answers = answers
        self.tokenizer = tokenizer
        self.max_len = max_len

    def __len__(self):
        return len(self.answers)

    def __getitem__(self, index):
        encoded = self.tokenizer.encode_plus(f"{self.questions[index]} [SEP] {self.passages[index]}",
                                             add_special_tokens=True, max_length=self.max_len, padding="max_length",
                                             truncation=True, return_attention_mask=True, return_tensors="pt")
        return {"input_ids": encoded["input_ids"][0], "attention_mask": encoded["attention_mask"][0],
                "labels": torch.tensor(self.answers[index], dtype=torch.long)}


def evaluate_model(model, dataloader, device):
    model.eval()
    hits, seen = 0, 0
    with torch.inference_mode():
        for batch in dataloader:
            logits = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))["logits"]
            hits += (logits.argmax(1).cpu() == batch["labels"]).sum().item()
            seen += batch["labels"].numel()
    return {"accuracy": hits / seen}


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, test_dataloder, device, lr, model_name):
    if mymodel.type == "head":
        params = list(mymodel.classifier.parameters())
    elif mymodel.type == "prefix":
        params = [mymodel.prefix] + list(mymodel.classifier.parameters())
    else:
        params = list(mymodel.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                              num_training_steps=len(train_dataloader) * num_epochs)
    for epoch in range(num_epochs):
        mymodel.train()
        for batch in tqdm(train_dataloader):
            logits = mymodel(batch["input_ids"].to(device), batch["attention_mask"].to(device))["logits"]
            loss = F.cross_entropy(logits, batch["labels"].to(device))
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch}: dev {evaluate_model(mymodel, validation_dataloader, device)}")
