import os

import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

from classifier import SpeechClassifier
from dataset import LanguageModelingDataset, SpeechesClassificationDataset
from tokenizer import SimpleTokenizer
from transformer import Decoder
from utilities import Utilities

seed = 42

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


def compute_perplexity(decoderLMmodel, data_loader, eval_iters=100):
    decoderLMmodel.eval()
    losses = []
    for X, Y in data_loader:
        X, Y = X.to(device), Y.to(device)
        losses.append(decoderLMmodel(X, Y).item())
        if len(losses) >= eval_iters:
            break
    decoderLMmodel.train()
    return torch.exp(torch.tensor(losses).mean()).item()


def main():
    texts = load_texts("speechesdataset")
    tokenizer = SimpleTokenizer(" ".join(texts))
    train_CLS_dataset = SpeechesClassificationDataset(tokenizer, "speechesdataset/train_CLS.tsv")
    train_CLS_loader = DataLoader(train_CLS_dataset, batch_size=batch_size, collate_fn=collate_batch, shuffle=True)
    test_CLS_dataset = SpeechesClassificationDataset(tokenizer, "speechesdataset/test_CLS.tsv")
    test_CLS_loader = DataLoader(test_CLS_dataset, batch_size=batch_size, collate_fn=collate_batch)

    model = SpeechClassifier(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(epochs_CLS):
        for xb, yb in train_CLS_loader:
            xb, yb = xb.to(device), yb.to(device)
            logits, _ = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: test accuracy {compute_classifier_accuracy(model, test_CLS_loader):.2f}")
    Utilities(tokenizer, model).sanity_check(texts[0], block_size)

    with open("speechesdataset/train_LM.txt", encoding="utf-8") as f:
        train_LM_loader = DataLoader(LanguageModelingDataset(tokenizer, f.read(), block_size),
                                     batch_size=batch_size, shuffle=True)
    decoder = Decoder(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size).to(device)
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=learning_rate)
    for i, (xb, yb) in enumerate(train_LM_loader):
        if i >= max_iters:
            break
        loss = decoder(xb.to(device), yb.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (i + 1) % eval_interval == 0:
            print(i + 1, compute_perplexity(decoder, train_LM_loader, eval_iters))


if __name__ == "__main__":
    main()
