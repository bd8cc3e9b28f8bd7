import torch
from torch.utils.data import DataLoader

from dataset import LanguageModelingDataset, SpeechesClassificationDataset
from tokenizer import SimpleTokenizer
from transformer import Decoder, Encoder

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

batch_size = 16
block_size = 32
learning_rate = 1e-3
n_embd = 64
n_head = 2
n_layer = 4
max_iters = 500


def main():
    with open("speechesdataset/train_LM.txt", encoding="utf-8") as f:
        text = f.read()
    tokenizer = SimpleTokenizer(text)

    encoder = Encoder(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size, device=device)
    train_CLS_loader = DataLoader(SpeechesClassificationDataset(tokenizer, "speechesdataset/train_CLS.tsv"),
                                  batch_size=batch_size)
    for xb, _ in train_CLS_loader:
        xb = xb.to(device)
        pad_mask = (xb != 0).unsqueeze(1).unsqueeze(2)
        hidden, attn_maps = encoder(xb, pad_mask, return_attention=True)

    decoder = Decoder(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size, device=device)
    causal = torch.tril(torch.ones(block_size, block_size)).to(device)
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=learning_rate)
    train_LM_loader = DataLoader(LanguageModelingDataset(tokenizer, text, block_size), batch_size=batch_size)
    for i, (xb, yb) in enumerate(train_LM_loader):
        if i >= max_iters:
            break
        loss = decoder(xb.to(device), causal, yb.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
