import torch

import transformer
from tokenizer import SimpleTokenizer
from transformer import TransformerDecoder, TransformerEncoder

batch_size = 16
block_size = 32
n_embd = 64
n_head = 2
n_layer = 4


def main():
    with open("speechesdataset/train_LM.txt", encoding="utf-8") as f:
        tokenizer = SimpleTokenizer(f.read())
    transformer.configure(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size)
    encoder = TransformerEncoder()
    decoder = TransformerDecoder()
    print(encoder(torch.zeros(1, block_size, dtype=torch.long))[0].shape, decoder)


if __name__ == "__main__":
    main()
