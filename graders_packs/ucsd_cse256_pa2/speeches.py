"""Speech data for PA2's threshold jobs, grader side: three synthetic speakers (smoke) or the course's files
(full), tokenized here into ids the jobs train on.

The grader tokenizes, not the job: the handout's SimpleTokenizer builds its vocabulary from a set, so its ids
change with PYTHONHASHSEED (the sandbox fixes it to 0, graders/sandbox/worker.py, but the grader's own
tokenization does not depend on it at all): words, then punctuation marks, as nltk's word_tokenize splits them,
with ids given in sorted order after <pad> = 0 and <unk> = 1, as SimpleTokenizer numbers them.

Smoke speakers share one lexicon and grammar (graders.checks.lm) but each prefers its own third of the
nouns, verbs and adjectives, so a segment's speaker shows only in its word statistics, which the classifier
must gather over the whole segment.
"""
import random
import re
from pathlib import Path

from graders.checks import lm

SPEAKERS = 3
PREFERENCE = 4     # a speaker's own words are this many times likelier than the others'
COURSE = {"cls_train": "train_CLS.tsv", "cls_test": "test_CLS.tsv", "lm_train": "train_LM.txt",
          "lm_test": ("test_LM_obama.txt", "test_LM_wbush.txt", "test_LM_hbush.txt")}
TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def tokens(text):
    return TOKEN.findall(text)


def vocabulary(texts):
    """token -> id: <pad> 0, <unk> 1, then every token of `texts` in sorted order."""
    words = sorted({t for text in texts for t in tokens(text)})
    return {w: i for i, w in enumerate(["<pad>", "<unk>"] + words)}


def encode(stoi, text):
    return [stoi.get(t, 1) for t in tokens(text)]


def speaker_lines(seed, n):
    """`n` (label, sentence) pairs, labels 0..2 in turn, from the speakers of lexicon `seed`."""
    words = lm.lexicon(random.Random(seed))
    speakers = []
    for s in range(SPEAKERS):
        own = {kind: ws[s::SPEAKERS] for kind, ws in words.items()}
        speakers.append({kind: ws + own[kind] * (PREFERENCE - 1) for kind, ws in words.items()})
    rng = random.Random(seed + 1)
    return [(i % SPEAKERS, lm.sentence(rng, speakers[i % SPEAKERS])) for i in range(n)]


def course_file(data_dir, name):
    path = Path(data_dir) / name
    if not path.is_file():
        raise FileNotFoundError(f"--data-dir {data_dir} lacks {name}")
    return path.read_text(encoding="utf-8")


def labelled(text):
    """(label, text) pairs of a course .tsv (label TAB text), skipping empty texts as the handout's dataset does."""
    pairs = [line.split("\t", 1) for line in text.splitlines() if "\t" in line]
    return [(int(label), t) for label, t in pairs if t.strip()]


def classification(profile, data_dir, seed, sizes):
    """(train pairs, test pairs, vocabulary) of (label, text). Smoke lines are shuffled by the seed (the grading's
    secret) before the split: neither a label nor the test rows follow from a row's position."""
    if profile == "smoke":
        lines = speaker_lines(seed, sizes["train"] + sizes["test"])
        random.Random(f"{seed} deal").shuffle(lines)
        train, test = lines[:sizes["train"]], lines[sizes["train"]:]
        return train, test, vocabulary(t for _, t in train)
    train = labelled(course_file(data_dir, COURSE["cls_train"]))
    test = labelled(course_file(data_dir, COURSE["cls_test"]))
    # the handout's tokenizer reads every file but the test files: the classifier's and the LM's training text
    return train, test, vocabulary([t for _, t in train] + [course_file(data_dir, COURSE["lm_train"])])


def language_modeling(profile, data_dir, seed):
    """(training text, {test set name: text}, vocabulary)."""
    if profile == "smoke":
        train, heldout = lm.corpus(seed)
        return train, {"heldout": heldout}, vocabulary([train])
    train = course_file(data_dir, COURSE["lm_train"])
    tests = {name.removeprefix("test_LM_").removesuffix(".txt"): course_file(data_dir, name)
             for name in COURSE["lm_test"]}
    cls = [t for _, t in labelled(course_file(data_dir, COURSE["cls_train"]))]
    return train, tests, vocabulary([train] + cls)
