import random
import torch
from torch.utils.data import Dataset


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
        n = random.randint(4, int(self.block_size * 7 / 8))
        doc = torch.tensor([self.stoi[c] for c in document[:n]], dtype=torch.long)
        n = len(doc)  # shorter documents stay shorter

        # span start first (uniform over 0..n), then its length uniform over 0..n-start:
        # E[len] = E[(n - start) / 2] = n / 4
        start = random.randint(0, n)
        end = start + random.randint(0, n - start)
        n_suffix = n - end

        # layout: doc[:start] MASK doc[end:] MASK doc[start:end] PAD...
        ids = torch.full((self.block_size,), self.stoi[self.PAD_CHAR], dtype=torch.long)
        ids[:start] = doc[:start]
        ids[start] = self.stoi[self.MASK_CHAR]
        ids[start + 1:start + 1 + n_suffix] = doc[end:]
        ids[start + 1 + n_suffix] = self.stoi[self.MASK_CHAR]
        ids[start + 2 + n_suffix:n + 2] = doc[start:end]
        return ids[:-1], ids[1:]
