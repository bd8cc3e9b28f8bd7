import os

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from dataset import LanguageModelingDataset, SpeechesClassificationDataset
from tokenizer import SimpleTokenizer
from transformer import LanguageModel, SpeechClassifier
from utilities import Utilities

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

batch_size = 16
block_size = 32
learning_rate = 1e-3
EMB = 64  # the embedding width, n_embd in the handout
n_head = 2
n_layer = 4
n_hidden = 100
n_output = 3
epochs_CLS = 15
max_iters = 500


def compute_classifier_accuracy(classifier, data_loader):
    classifier.eval()
    correct = total = 0
    with torch.no_grad():
        for X, Y in data_loader:
            outputs, _ = classifier(X.to(device))
            correct += (outputs.argmax(1) == Y.to(device)).sum().item()
            total += Y.size(0)
    classifier.train()
    return 100 * correct / total


def compute_perplexity(decoderLMmodel, data_loader, eval_iters=100):
    decoderLMmodel.eval()
    losses = []
    for X, Y in data_loader:
        losses.append(decoderLMmodel(X.to(device), Y.to(device)).item())
        if len(losses) >= eval_iters:
            break
    decoderLMmodel.train()
    return torch.exp(torch.tensor(losses).mean()).item()


def main():
    texts = [open(os.path.join("speechesdataset", f)).read() for f in os.listdir("speechesdataset") if "test" not in f]
    tokenizer = SimpleTokenizer(" ".join(texts))
    train_CLS_loader = DataLoader(SpeechesClassificationDataset(tokenizer, "speechesdataset/train_CLS.tsv"),
                                  batch_size=batch_size, shuffle=True)
    test_CLS_loader = DataLoader(SpeechesClassificationDataset(tokenizer, "speechesdataset/test_CLS.tsv"),
                                 batch_size=batch_size)

    clf = SpeechClassifier(tokenizer.vocab_size, EMB, n_head, n_layer, block_size, n_hidden, n_output,
                           attn_heads=1).to(device)
    Utilities(tokenizer, clf).sanity_check(texts[0], block_size)
    opt = torch.optim.Adam(clf.parameters(), lr=learning_rate)
    for epoch in range(epochs_CLS):
        for xb, yb in train_CLS_loader:
            logits, _ = clf(xb.to(device))
            loss = nn.functional.cross_entropy(logits, yb.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
    print("accuracy", compute_classifier_accuracy(clf, test_CLS_loader))

    lm = LanguageModel(tokenizer.vocab_size, EMB, n_head, n_layer, block_size, n_hidden, attn_heads=1)
    lm = lm.to(device)
    with open("speechesdataset/train_LM.txt") as f:
        train_LM_loader = DataLoader(LanguageModelingDataset(tokenizer, f.read(), block_size), batch_size=batch_size,
                                     shuffle=True)
    opt = torch.optim.AdamW(lm.parameters(), lr=learning_rate)
    for i, (xb, yb) in enumerate(train_LM_loader):
        if i >= max_iters:
            break
        loss = lm(xb.to(device), yb.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
    print("perplexity", compute_perplexity(lm, train_LM_loader))


if __name__ == "__main__":
    main()
