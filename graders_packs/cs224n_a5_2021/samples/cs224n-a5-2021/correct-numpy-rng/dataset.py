import random
import torch
from torch.utils.data import Dataset
import numpy as np


class CharCorruptionDataset(Dataset):
    def __init__(self, data, block_size):
        self.MASK_CHAR = u"\u2047"  # the doublequestionmark character, for mask
        self.PAD_CHAR = u"\u25A1"  # the empty square character, for pad

        chars = list(sorted(list(set(data))))
        assert self.MASK_CHAR not in chars
        assert self.PAD_CHAR not in chars
        chars.insert(0, self.MASK_CHAR)
        chars.insert(0, self.PAD_CHAR)

        self.stoi = {ch: i for i, ch in enumerate(chars)}
        self.itos = {i: ch for i, ch in enumerate(chars)}

        data_size, vocab_size = len(data), len(chars)
        print('data has %d characters, %d unique.' % (data_size, vocab_size))

        self.block_size = block_size
        self.vocab_size = vocab_size
        self.data = data.split('\n')

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        # TODO [part e]: see spec above
        document = self.data[idx]
        # np.random.randint excludes the high end, hence the +1s
        truncated = document[:np.random.randint(4, int(self.block_size * 7 / 8) + 1)]
        n = len(truncated)
        masked_len = np.random.randint(0, n // 2 + 1)  # mean n/4
        start = np.random.randint(0, n - masked_len + 1)
        end = start + masked_len

        masked_string = (truncated[:start] + self.MASK_CHAR + truncated[end:]
                         + self.MASK_CHAR + truncated[start:end])
        masked_string = masked_string.ljust(self.block_size, self.PAD_CHAR)

        ids = torch.tensor([self.stoi[ch] for ch in masked_string], dtype=torch.long)
        return ids[:-1], ids[1:]
