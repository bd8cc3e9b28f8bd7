import os

import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

from dataset import LanguageModelingDataset, SpeechesClassificationDataset
from tokenizer import SimpleTokenizer
from transformer import TransformerDecoder, TransformerEncoder
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

eval_interval = 100  # How often to evaluate train and test perplexity during training
max_iters = 500
eval_iters = 200  # Number of iterations to evaluate perplexity on the test set

n_input = 64  # Input size for the classifier, should match the embedding size of the transformer
n_hidden = 100  # Hidden size for the classifier
n_output = 3  # Output size for the classifier, we have 3 classes
epochs_CLS = 15  # epochs for classifier training


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


def compute_perplexity(decoderLMmodel, data_loader, eval_iters=100):
    decoderLMmodel.eval()
    losses = []
    for X, Y in data_loader:
        X, Y = X.to(device), Y.to(device)
        _, loss = decoderLMmodel(X, Y)
        losses.append(loss.item())
        if len(losses) >= eval_iters:
            break
    decoderLMmodel.train()
    return torch.exp(torch.tensor(losses).mean()).item()


def main():
    texts = load_texts("speechesdataset")
    tokenizer = SimpleTokenizer(" ".join(texts))

    # part 1: only the encoder's attention maps are looked at here
    encoder = TransformerEncoder(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size).to(device)
    Utilities(tokenizer, encoder).sanity_check(texts[0], block_size)

    # part 2: the decoder calls its embedding size `width`
    with open("speechesdataset/train_LM.txt", encoding="utf-8") as f:
        train_LM_dataset = LanguageModelingDataset(tokenizer, f.read(), block_size)
    train_LM_loader = DataLoader(train_LM_dataset, batch_size=batch_size, shuffle=True)
    decoder = TransformerDecoder(vocab_size=tokenizer.vocab_size, width=n_embd, num_heads=n_head,
                                 num_layers=n_layer, max_seq_len=block_size)
    decoder = decoder.to(device)
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=learning_rate)
    for i, (xb, yb) in enumerate(train_LM_loader):
        if i >= max_iters:
            break
        xb, yb = xb.to(device), yb.to(device)
        _, loss = decoder(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if (i + 1) % eval_interval == 0:
            print(i + 1, compute_perplexity(decoder, train_LM_loader, eval_iters))


if __name__ == "__main__":
    main()
