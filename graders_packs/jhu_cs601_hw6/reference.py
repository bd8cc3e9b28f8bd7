"""JHU CS601 hw6 reference: the custom classifier's forward, one function per fine-tuning type, and the
tokenizer call of BoolQADataset. Pooling is the handout's: the mean of the last hidden state over the sequence."""
import torch


def encode(tokenizer, question, passage, max_len):
    """BoolQADataset.__getitem__'s encoding: question first, so a long passage is what truncation cuts."""
    enc = tokenizer(question + " [SEP] " + passage, add_special_tokens=True, max_length=max_len,
                    padding="max_length", truncation=True, return_attention_mask=True, return_tensors="pt")
    return enc["input_ids"][0], enc["attention_mask"][0]


def mean_pool(hidden, mask=None):
    """The mean over positions; with `mask`, over the unmasked positions only (a reading the checks accept)."""
    if mask is None:
        return hidden.mean(dim=1)
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1)


def with_prefix(model, prefix, input_ids, attention_mask, prefix_first=True, prefix_mask=1, whole=False):
    """Input embeddings (the word embeddings; with `whole`, the embedding layer's output) with the prefix (l x d)
    joined to every row, and the attention mask extended by l entries of `prefix_mask` (1: the prefix is attended
    to)."""
    embeds = (model.embeddings if whole else model.embeddings.word_embeddings)(input_ids)
    p = prefix.unsqueeze(0).expand(input_ids.shape[0], -1, -1)
    extra = torch.full((input_ids.shape[0], prefix.shape[0]), prefix_mask, dtype=attention_mask.dtype)
    parts = [(p, extra), (embeds, attention_mask)]
    if not prefix_first:
        parts.reverse()
    return torch.cat([e for e, _ in parts], 1), torch.cat([m for _, m in parts], 1)


def logits(model, classifier, input_ids, attention_mask, prefix=None, prefix_first=True, prefix_mask=1,
           pool=mean_pool, masked=False, whole=False):
    """`full` and `head` (prefix None) or `prefix`: the checkpoint's last hidden state, pooled (over the
    unmasked positions when `masked`), through the linear classifier."""
    if prefix is None:
        hidden, mask = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state, attention_mask
    else:
        embeds, mask = with_prefix(model, prefix, input_ids, attention_mask, prefix_first, prefix_mask, whole)
        hidden = model(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
    return classifier(pool(hidden, mask) if masked else pool(hidden))


def trainable(hidden, num_labels=2, prefix_length=0):
    """Parameters `head` (prefix_length 0) and `prefix` tuning train: the classifier's weight and bias, and the
    prefix: num_labels*d + num_labels + l*d (2d+2+ld for two labels)."""
    return num_labels * hidden + num_labels + prefix_length * hidden
