"""Synthetic yes/no questions for the fine-tuning checks: BoolQ's fields (question, passage, answer), words from
the tiny hub's vocabulary, and an answer a tiny model learns in a few dozen steps: whether the question says
"yes". Seeded, so every grade sees the same data."""
import random

from graders.checks.hf.tiny_hub import WORDS

FILLER = [w for w in WORDS if w not in ("yes", "no")]


def boolq(n, seed, passage_words=(4, 30)):
    """n records {question, passage, answer}, half of them true; passages long and short, so that at a
    max_len of 16 some are padded and some truncated."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        answer = i % 2 == 0
        question = rng.sample(FILLER, 3)
        question.insert(rng.randrange(4), "yes" if answer else "no")
        passage = [rng.choice(FILLER) for _ in range(rng.randint(*passage_words))]
        records.append({"question": " ".join(question), "passage": " ".join(passage), "answer": answer})
    rng.shuffle(records)
    return records
