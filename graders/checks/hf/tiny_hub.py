"""Tiny Hugging Face checkpoints under hub names, built locally: no download ever happens while grading.

Student code calls `AutoTokenizer.from_pretrained("bert-base-uncased")` and `AutoModel.from_pretrained(name)`.
`install()` writes a tiny model (hidden 32, 2 layers, 2 heads) and a tokenizer over a small synthetic vocabulary
(WordPiece for BERT and DistilBERT, byte-level BPE for RoBERTa) into a directory named like each model id in the
working directory; transformers loads a
name that is an existing directory from there, without asking the hub. It also switches transformers and
huggingface_hub to offline mode and points their cache at the working directory, so a name that is not
installed fails at once with transformers' own "offline" message.

The same function runs in the grader, which builds the identical checkpoints (same seed, same config) to
compute expected outputs. This file is plain source, loaded into the sandbox as a given module: it imports
nothing of the grader.
"""
import os

# Vocabulary of the synthetic tasks (graders/checks/hf/data.py draws its sentences from these words).
WORDS = ("is the a of in it was not yes no true false river city king queen red blue green old new big small "
         "water fire stone tree bird horse ship road house door light dark north south east west first last "
         "game team song book film star moon sun sea hill lake").split()
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
HIDDEN, LAYERS, HEADS, POSITIONS = 32, 2, 2, 256
# Model ids students write, old and new hub spellings: each is a directory of the same tiny architecture.
MODELS = {"bert-base-uncased": "bert", "google-bert/bert-base-uncased": "bert", "bert-base-cased": "bert",
          "distilbert-base-uncased": "distilbert", "distilbert/distilbert-base-uncased": "distilbert",
          "roberta-base": "roberta", "FacebookAI/roberta-base": "roberta", "distilroberta-base": "roberta",
          "distilbert/distilroberta-base": "roberta"}
BPE_SPECIAL = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # RoBERTa's ids 0-3, then the mask
SEED = 447


def vocabulary():
    """WordPiece vocabulary: special tokens, the task words, and single characters so any text encodes."""
    chars = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789.,?!'-"]
    tokens = dict.fromkeys(SPECIAL + list(WORDS) + chars + ["##" + c for c in chars])  # "a" is a word and a char
    return {t: i for i, t in enumerate(tokens)}


def bpe_vocabulary():
    """(vocab, merges) of a byte-level BPE: the special tokens, the 256 byte symbols (so every text encodes), and
    the task words merged one character at a time, then with the space before them."""
    from tokenizers.pre_tokenizers import ByteLevel

    tokens, merges = dict.fromkeys(BPE_SPECIAL + sorted(ByteLevel.alphabet())), {}
    for word in WORDS:
        for end in range(2, len(word) + 1):
            merges.setdefault((word[:end - 1], word[end - 1]))
            tokens.setdefault(word[:end])
    for word in WORDS:  # ranked after every word, so a word is whole before its space joins it
        merges.setdefault(("\u0120", word))  # Ġ, the byte-level symbol of a space
        tokens.setdefault("\u0120" + word)
    return {t: i for i, t in enumerate(tokens)}, list(merges)


def roberta_tokenizer():
    """A RobertaTokenizerFast over bpe_vocabulary(): <s> A </s></s> B </s>; its save writes vocab.json and
    merges.txt too, so the slow tokenizer (use_fast=False) loads it."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import BPE
    from transformers import RobertaTokenizerFast

    vocab, merges = bpe_vocabulary()
    tok = Tokenizer(BPE(vocab, merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(("</s>", vocab["</s>"]), ("<s>", vocab["<s>"]))
    return RobertaTokenizerFast(tokenizer_object=tok, model_max_length=POSITIONS, bos_token="<s>", eos_token="</s>",
                                sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
                                mask_token="<mask>")


def tokenizer(kind="bert"):
    """A BertTokenizerFast (DistilBertTokenizerFast for `distilbert`, which has no token_type_ids): lower-casing,
    [CLS] A [SEP] B [SEP]; its save also writes vocab.txt, so the slow tokenizer (use_fast=False) loads it too.
    `roberta` gets roberta_tokenizer()."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import BertTokenizerFast, DistilBertTokenizerFast

    if kind == "roberta":
        return roberta_tokenizer()
    vocab = vocabulary()
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.decoder = decoders.WordPiece()
    make = DistilBertTokenizerFast if kind == "distilbert" else BertTokenizerFast
    return make(tokenizer_object=tok, model_max_length=POSITIONS, do_lower_case=True)


def model(kind):
    """The tiny base model of `kind`, with weights drawn from SEED: the same in every process."""
    import torch
    from transformers import BertConfig, BertModel, DistilBertConfig, DistilBertModel, RobertaConfig, RobertaModel

    size = len(vocabulary())
    if kind == "roberta":  # positions count from pad_token_id + 1, so RoBERTa needs two more of them
        config = RobertaConfig(vocab_size=len(bpe_vocabulary()[0]), hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                               num_attention_heads=HEADS, intermediate_size=2 * HIDDEN, type_vocab_size=1,
                               max_position_embeddings=POSITIONS + 2, pad_token_id=1, bos_token_id=0, eos_token_id=2)
        make = RobertaModel
    elif kind == "bert":
        config = BertConfig(vocab_size=size, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                            intermediate_size=2 * HIDDEN, max_position_embeddings=POSITIONS)
        make = BertModel
    else:
        config = DistilBertConfig(vocab_size=size, dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS, hidden_dim=2 * HIDDEN,
                                  max_position_embeddings=POSITIONS)
        make = DistilBertModel
    state = torch.random.get_rng_state()
    torch.manual_seed(SEED)
    try:
        return make(config).eval()
    finally:
        torch.random.set_rng_state(state)


OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_TELEMETRY": "1"}


def offline(cache):
    """Hub access off (OFFLINE), caches under `cache` (HF_HOME): before and after transformers is imported."""
    os.environ.update(OFFLINE, HF_HOME=cache)
    import huggingface_hub.constants as constants

    constants.HF_HUB_OFFLINE = True


def install(root=".", names=tuple(MODELS)):
    """Write the checkpoints `names` (model ids) under `root`; returns the ids written."""
    offline(os.path.abspath(os.path.join(root, ".hf_home")))
    built = {}
    for name in names:
        path = os.path.join(root, name)
        if os.path.isfile(os.path.join(path, "config.json")):
            continue
        kind = MODELS[name]
        if kind not in built:
            built[kind] = model(kind), tokenizer(kind)
        for part in built[kind]:
            part.save_pretrained(path)
    return list(names)
