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
        truncated = document[:random.randint(4, int(self.block_size * 7 / 8))]
        L = len(truncated)

        # span length ~ N(L/4, (L/8)^2), rounded and clipped into [1, L] ([0, 0] for an empty doc)
        masked_len = int(round(random.gauss(L / 4, L / 8)))
        masked_len = max(1 if L >= 1 else 0, min(L, masked_len))
        start = random.randint(0, L - masked_len)

        prefix, masked_content, suffix = (truncated[:start], truncated[start:start + masked_len],
                                          truncated[start + masked_len:])
        masked_string = prefix + self.MASK_CHAR + suffix + self.MASK_CHAR + masked_content
        masked_string = masked_string + self.PAD_CHAR * (self.block_size - len(masked_string))

        x = torch.tensor([self.stoi[c] for c in masked_string[:-1]], dtype=torch.long)
        y = torch.tensor([self.stoi[c] for c in masked_string[1:]], dtype=torch.long)
        return x, y
