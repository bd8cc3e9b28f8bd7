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
        # 0. grab the document
        document = self.data[idx]

        # 1. truncate to a random length in [4, int(block_size*7/8)] (randint includes both ends)
        truncated_len = random.randint(4, int(self.block_size * 7 / 8))
        truncated = document[:truncated_len]

        # 2. masked content length uniform on [0, len/2], so 1/4 of the truncated length on average
        masked_len = random.randint(0, len(truncated) // 2)
        start = random.randint(0, len(truncated) - masked_len)
        prefix = truncated[:start]
        masked_content = truncated[start:start + masked_len]
        suffix = truncated[start + masked_len:]

        # 3. rearrange and pad
        masked_string = prefix + self.MASK_CHAR + suffix + self.MASK_CHAR + masked_content
        masked_string += self.PAD_CHAR * (self.block_size + 1 - len(masked_string))

        # 4. input and target, shifted by one character
        x = torch.tensor([self.stoi[c] for c in masked_string[:-1]], dtype=torch.long)
        y = torch.tensor([self.stoi[c] for c in masked_string[1:]], dtype=torch.long)
        return x, y
