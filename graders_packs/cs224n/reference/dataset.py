"""CS224N minGPT span corruption (A5 2021/2023, A4 2024): the dataset that pretrains on wiki text.

One example: take a document, truncate it to a random length, cut out a random span and move it to the
end behind a mask character, pad, and shift by one for next-character prediction:

    "Khatchig Mouradian. Khatchig"  ->  "Khatchig Mour⁇. Khatchig⁇adian□□□□"
"""
import random

import torch
from torch.utils.data import Dataset

MASK_CHAR = "\u2047"  # ⁇
PAD_CHAR = "\u25A1"   # □


def corrupt(document, block_size, pad_to):
    """The masked string for one document: prefix ⁇ suffix ⁇ masked_content, padded to `pad_to` chars."""
    truncated = document[:random.randint(4, int(block_size * 7 / 8))]
    masked_len = random.randint(0, len(truncated) // 2)  # mean len/4; an empty document gives an empty span
    start = random.randint(0, len(truncated) - masked_len)
    prefix, masked, suffix = truncated[:start], truncated[start:start + masked_len], truncated[start + masked_len:]
    masked_string = prefix + MASK_CHAR + suffix + MASK_CHAR + masked
    return masked_string + PAD_CHAR * (pad_to - len(masked_string))


class CharCorruptionDataset(Dataset):
    """`pad_extra` is 0 for the 2021 and 2023 handouts (x and y are block_size - 1 long) and 1 for 2024
    (block_size long)."""

    def __init__(self, data, block_size, pad_extra=0):
        chars = [PAD_CHAR, MASK_CHAR] + sorted(set(data))
        self.stoi = {ch: i for i, ch in enumerate(chars)}
        self.itos = dict(enumerate(chars))
        self.block_size, self.vocab_size, self.pad_extra = block_size, len(chars), pad_extra
        self.data = data.split("\n")

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        masked_string = corrupt(self.data[idx], self.block_size, self.block_size + self.pad_extra)
        ids = torch.tensor([self.stoi[c] for c in masked_string], dtype=torch.long)
        return ids[:-1], ids[1:]
