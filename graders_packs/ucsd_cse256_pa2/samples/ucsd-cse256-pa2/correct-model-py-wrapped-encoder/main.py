import torch
from torch.utils.data import DataLoader

from dataset import SpeechesClassificationDataset
from model import LanguageModel, SpeechClassifier
from tokenizer import SimpleTokenizer

block_size = 32
n_embd = 64
n_head = 2
n_layer = 4
n_hidden = 100
n_output = 3


def compute_classifier_accuracy(classifier, data_loader):
    classifier.eval()
    right = total = 0
    with torch.no_grad():
        for X, Y in data_loader:
            right += (classifier(X).argmax(1) == Y).sum().item()
            total += len(Y)
    classifier.train()
    return 100 * right / total


def main():
    with open("speechesdataset/train_LM.txt", encoding="utf-8") as f:
        tokenizer = SimpleTokenizer(f.read())
    classifier = SpeechClassifier(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size, n_hidden, n_output)
    test_CLS_loader = DataLoader(SpeechesClassificationDataset(tokenizer, "speechesdataset/test_CLS.tsv"),
                                 batch_size=16)
    print(compute_classifier_accuracy(classifier, test_CLS_loader))
    lm = LanguageModel(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size, n_hidden)
    print(sum(p.numel() for p in lm.parameters()))


if __name__ == "__main__":
    main()
