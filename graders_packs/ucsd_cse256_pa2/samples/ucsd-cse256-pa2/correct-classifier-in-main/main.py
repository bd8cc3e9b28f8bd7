import os

import nltk
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

from dataset import LanguageModelingDataset, SpeechesClassificationDataset
from tokenizer import SimpleTokenizer
from transformer import LanguageModel, TransformerEncoder
from utilities import Utilities

nltk.download("punkt")

seed = 42
torch.manual_seed(seed)

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

""" Hyperparameters to use for training to roughly match
the numbers mentioned in the assignment description """
batch_size = 16  # Number of independent sequences  we will process in parallel
block_size = 32  # Maximum context length for predictions
learning_rate = 1e-3  # Learning rate for the optimizer
n_embd = 64  # Embedding dimension
n_head = 2  # Number of attention heads
n_layer = 4  # Number of transformer layers

eval_interval = 100
max_iters = 500
eval_iters = 200

n_input = 64
n_hidden = 100
n_output = 3
epochs_CLS = 15


class Classifier(nn.Module):
    """Part 1: token and position embeddings, the transformer encoder, and a one-hidden-layer classifier on the
    mean of the encoder's outputs. The sizes are the hyper-parameters above."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, n_embd)
        self.pos_embed = nn.Embedding(block_size, n_embd)
        self.encoder = TransformerEncoder(n_embd, n_head, n_layer, block_size)
        self.classifier = nn.Sequential(nn.Linear(n_input, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_output))

    def forward(self, x):
        mask = (x != 0).float()
        h = self.embed(x) + self.pos_embed(torch.arange(x.shape[1], device=x.device))
        h, maps = self.encoder(h, mask)
        h = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return self.classifier(h), maps


def load_texts(directory):
    texts = []
    for filename in os.listdir(directory):
        if "test" in filename:
            continue
        with open(os.path.join(directory, filename), encoding="utf-8") as file:
            texts.append(file.read())
    return texts


def collate_batch(batch):
    data, labels = zip(*batch)
    padded = pad_sequence(data, batch_first=True, padding_value=0)[:, :block_size]
    padded = torch.nn.functional.pad(padded, (0, max(0, block_size - padded.shape[1])), "constant", 0)
    return padded, torch.stack(labels)


def compute_classifier_accuracy(classifier, data_loader):
    classifier.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for X, Y in data_loader:
            X, Y = X.to(device), Y.to(device)
            outputs, _ = classifier(X)
            correct += (outputs.argmax(1) == Y).sum().item()
            total += Y.size(0)
    classifier.train()
    return 100 * correct / total


# part 1, run at the top of the script
texts = load_texts("speechesdataset")
tokenizer = SimpleTokenizer(" ".join(texts))
print("Vocabulary size is", tokenizer.vocab_size)
train_CLS_loader = DataLoader(SpeechesClassificationDataset(tokenizer, "speechesdataset/train_CLS.tsv"),
                              batch_size=batch_size, collate_fn=collate_batch, shuffle=True)
test_CLS_loader = DataLoader(SpeechesClassificationDataset(tokenizer, "speechesdataset/test_CLS.tsv"),
                             batch_size=batch_size, collate_fn=collate_batch)
model = Classifier(tokenizer.vocab_size).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
for epoch in range(epochs_CLS):
    for xb, yb in train_CLS_loader:
        xb, yb = xb.to(device), yb.to(device)
        logits, _ = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(epoch, compute_classifier_accuracy(model, test_CLS_loader))
Utilities(tokenizer, model).sanity_check(texts[0], block_size)
torch.save(model.state_dict(), "classifier.pt")

if __name__ == "__main__":
    # part 2
    with open("speechesdataset/train_LM.txt", encoding="utf-8") as f:
        train_LM_loader = DataLoader(LanguageModelingDataset(tokenizer, f.read(), block_size),
                                     batch_size=batch_size, shuffle=True)
    lm = LanguageModel(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size).to(device)
    optimizer = torch.optim.AdamW(lm.parameters(), lr=learning_rate)
    for i, (xb, yb) in enumerate(train_LM_loader):
        if i >= max_iters:
            break
        loss, _ = lm(xb.to(device), yb.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
