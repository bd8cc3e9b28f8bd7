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

        def draw(low, high):  # inclusive on both ends, like random.randint
            return int(torch.randint(low, high + 1, (1,)).item())

        truncated = document[:draw(4, int(self.block_size * 7 / 8))]
        masked_len = draw(0, len(truncated) // 2)
        start = draw(0, len(truncated) - masked_len)
        end = start + masked_len

        chars = list(truncated[:start])
        chars.append(self.MASK_CHAR)
        chars.extend(truncated[end:])
        chars.append(self.MASK_CHAR)
        chars.extend(truncated[start:end])
        chars.extend([self.PAD_CHAR] * (self.block_size - len(chars)))

        x = torch.tensor([self.stoi[c] for c in chars[:-1]], dtype=torch.long)
        y = torch.tensor([self.stoi[c] for c in chars[1:]], dtype=torch.long)
        return x, y
