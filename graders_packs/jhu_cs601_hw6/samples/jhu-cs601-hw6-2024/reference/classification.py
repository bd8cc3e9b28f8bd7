import argparse
import time

import evaluate as evaluate
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
from datasets import load_dataset
from torch.utils.data import DataLoader
from tqdm import tqdm
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, get_scheduler


class CustomModelforSequenceClassification(nn.Module):

    def __init__(self, model_name, num_labels=2, type="full"):
        super(CustomModelforSequenceClassification, self).__init__()
        self.model = AutoModel.from_pretrained(model_name)
        self.type = type
        self.num_labels = num_labels
        self.prefix = torch.nn.Parameter(torch.randn(prefix_length, self.model.config.hidden_size,
                                                     requires_grad=True).to('cuda'))
        self.classifier = nn.Linear(self.model.config.hidden_size, num_labels)

    def forward(self, input_ids, attention_mask):
        if self.type == "full" or self.type == "head":
            output = self.model(input_ids=input_ids, attention_mask=attention_mask)
            logits = self.classifier(output.last_hidden_state.mean(dim=1))
        elif self.type == "prefix":
            prefix = self.prefix.unsqueeze(0).repeat(input_ids.shape[0], 1, 1)
            embeddings = self.model.embeddings.word_embeddings(input_ids)
            inputs_embeds = torch.cat([prefix, embeddings], dim=1).to(device='cuda')
            prefix_mask = torch.ones(input_ids.shape[0], prefix_length, dtype=attention_mask.dtype,
                                     device=attention_mask.device)
            attention_mask = torch.cat([prefix_mask, attention_mask], dim=1)
            output = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
            logits = self.classifier(torch.mean(output.last_hidden_state, dim=1))
        return {"logits": logits}


class BoolQADataset(torch.utils.data.Dataset):
    def __init__(self, passages, questions, answers, tokenizer, max_len):
        self.passages, self.questions, self.answers = passages, questions, answers
        self.tokenizer, self.max_len = tokenizer, max_len

    def __len__(self):
        return len(self.answers)

    def __getitem__(self, index):
        input_encoding = self.questions[index] + " [SEP] " + str(self.passages[index])
        encoded_review = self.tokenizer.encode_plus(input_encoding, add_special_tokens=True, max_length=self.max_len,
                                                    return_token_type_ids=False, return_attention_mask=True,
                                                    return_tensors="pt", padding="max_length", truncation=True)
        return {"input_ids": encoded_review["input_ids"][0], "attention_mask": encoded_review["attention_mask"][0],
                "labels": torch.tensor(self.answers[index], dtype=torch.long)}


def evaluate_model(model, dataloader, device):
    dev_accuracy = evaluate.load('accuracy')
    model.eval()
    for batch in dataloader:
        input_ids = batch['input_ids'].to(device)
        attention_mask = batch['attention_mask'].to(device)
        output = model(input_ids=input_ids, attention_mask=attention_mask)
        predictions = output['logits']
        predictions = torch.argmax(predictions, dim=1)
        dev_accuracy.add_batch(predictions=predictions, references=batch['labels'])
    return dev_accuracy.compute()


def train(mymodel, num_epochs, train_dataloader, validation_dataloader, test_dataloder, device, lr, model_name):
    weight_decay = 0.01
    no_decay = ['bias', 'LayerNorm.weight']
    optimizer_grouped_parameters = [
        {'params': [p for n, p in mymodel.named_parameters() if not any(nd in n for nd in no_decay)],
         'weight_decay': weight_decay},
        {'params': [p for n, p in mymodel.named_parameters() if any(nd in n for nd in no_decay)], 'weight_decay': 0.0}
    ]
    optimizer = torch.optim.AdamW(optimizer_grouped_parameters, lr=lr)
    if mymodel.type == "head":
        custom_optimizer = torch.optim.AdamW(mymodel.classifier.parameters(), lr=lr)
    elif mymodel.type == "prefix":
        prefix_params = mymodel.prefix
        classifier_params = mymodel.classifier.parameters()
        custom_optimizer = torch.optim.AdamW([prefix_params] + list(classifier_params), lr=lr)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=50,
                                 num_training_steps=len(train_dataloader) * num_epochs)
    loss = torch.nn.CrossEntropyLoss()
    train_acc_list, dev_acc_list = [], []
    for epoch in range(num_epochs):
        epoch_start_time = time.time()
        mymodel.train()
        train_accuracy = evaluate.load('accuracy')
        for index, batch in tqdm(enumerate(train_dataloader)):
            input_ids = batch['input_ids'].to(device)
            attention_mask = batch['attention_mask'].to(device)
            labels = batch['labels'].to(device)
            output = mymodel(input_ids=input_ids, attention_mask=attention_mask)
            predictions = output['logits']
            model_loss = loss(predictions, labels)
            model_loss.backward()
            if mymodel.type == "full" or mymodel.type == "auto":
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            else:
                custom_optimizer.step()
                lr_scheduler.step()
                custom_optimizer.zero_grad()
            predictions = torch.argmax(predictions, dim=1)
            train_accuracy.add_batch(predictions=predictions, references=batch['labels'])
        train_acc_list.append(train_accuracy.compute()['accuracy'])
        dev_acc_list.append(evaluate_model(mymodel, validation_dataloader, device)['accuracy'])
        test_accuracy = evaluate_model(mymodel, test_dataloader, device)
        print(f"Epoch {epoch + 1} took {time.time() - epoch_start_time} seconds; test {test_accuracy}")
    plot(train_acc_list, dev_acc_list, name=model_name, finetune_method=mymodel.type)


def plot(train_list, valid_list, name, finetune_method):
    plt.figure()
    plt.plot(train_list, label='Train')
    plt.plot(valid_list, label='Validation')
    plt.legend()
    plt.savefig(f'{name}_{finetune_method}.png')


def pre_process(model_name, batch_size, device, small_subset, type='auto'):
    dataset = load_dataset("boolq").shuffle()
    mytokenizer = AutoTokenizer.from_pretrained(model_name, use_fast=False)
    loaders = []
    for split in (dataset['train'][:8000], dataset['validation'], dataset['train'][8000:]):
        ds = BoolQADataset(list(split['passage']), list(split['question']), list(split['answer']), mytokenizer, 128)
        loaders.append(DataLoader(ds, batch_size=batch_size))
    if type == "auto":
        pretrained_model = AutoModelForSequenceClassification.from_pretrained(model_name, num_labels=2)
    else:
        pretrained_model = CustomModelforSequenceClassification(model_name, num_labels=2, type=type)
    pretrained_model.to(device)
    return (pretrained_model, *loaders)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--device", type=str, default="cuda")
    parser.add_argument("--model", type=str, default="bert-base-uncased")
    parser.add_argument("--type", type=str, default="auto", choices=["auto", "full", "head", "prefix"])
    parser.add_argument("--prefix_length", type=int, default=128)
    args = parser.parse_args()
    global prefix_length
    prefix_length = args.prefix_length
    pretrained_model, train_dataloader, validation_dataloader, test_dataloader = pre_process(
        args.model, args.batch_size, args.device, False, args.type)
    train(pretrained_model, args.num_epochs, train_dataloader, validation_dataloader, test_dataloader, args.device,
          args.lr, args.model)
