"""A synthetic encyclopedia for the CS224N birthplace job's smoke profile (grader side, trusted).

The course pretrains on wiki text and finetunes on `Where was NAME born?<TAB>PLACE`; dev people appear in
the wiki but not in the finetune set, so only pretraining can teach their birthplaces. This generator
keeps that structure at a size a CPU learns in a minute: a few hundred fictional people with made-up,
unambiguous names (every first name and every full name unique, none a place or a corpus word), one short
biography each that names the birthplace early (the span corruption truncates documents to at most 7/8 of
the block), and places dealt out evenly, so chance and "always the most common place" stay far below the
job's threshold.
"""
import random
from collections import Counter
from typing import NamedTuple

PLACES = ("Accra", "Bergen", "Cusco", "Dakar", "Essen", "Fez", "Graz", "Hanoi", "Izmir", "Jena", "Kyoto", "Lima",
          "Minsk", "Nice", "Oslo", "Perth", "Quito", "Riga", "Sofia", "Turin")
JOBS = ("poet", "chemist", "painter", "sailor", "baker", "judge", "dancer", "farmer", "singer", "doctor")
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "st", "tr")
VOWELS = ("a", "e", "i", "o", "u")
CODAS = ("", "", "n", "l", "r", "s")
# Every template names the place within the first ~36 characters: span corruption keeps a random prefix
# of 4 to 7/8 * block_size characters, and a place cut off is a place not learned.
TEMPLATES = (
    "{name} was born in {place} in {year}. {first} was a {job}.",
    "{name}, born in {place}, was a {job}.",
    "Who was {name}? Born in {place}, {first} was a {job}.",
)
QUESTION = "Where was {name} born?"
# The smoke profile's sizes (benchmarks/birthplace_smoke.py calibrates them, with the job's SMOKE
# hyper-parameters, against the spec's threshold; see benchmarks/README.md).
SMOKE = {"people": 96, "finetune": 32, "places": 12, "docs_each": 2}


class Encyclopedia(NamedTuple):
    corpus: str                  # one biography a line, every person (finetune and dev)
    train_tsv: str               # `Where was NAME born?\tPLACE` lines, finetune people only
    dev: list[tuple[str, str]]   # (question, place) of held-out people; the job sees only the questions


def word(rng, syllables):
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)).title()


def names(rng, n):
    """n full names with pairwise distinct first names, so that a name never stands for two people."""
    taken = {p.lower() for p in PLACES} | {j.lower() for j in JOBS} | {"who", "was", "born", "where", "a", "in"}
    firsts, out = set(), []
    while len(out) < n:
        first, last = word(rng, 2), word(rng, 2)
        if first.lower() in taken or last.lower() in taken or first in firsts or first == last:
            continue
        firsts.add(first)
        out.append(f"{first} {last}")
    return out


def generate(seed, people=SMOKE["people"], finetune=SMOKE["finetune"], places=SMOKE["places"],
             docs_each=SMOKE["docs_each"]):
    """The corpus, finetune lines and dev questions of one encyclopedia; the same seed gives the same text.

    Places are dealt round-robin within the finetune and within the dev people, so every place is equally
    common in both (majority = chance when the counts divide evenly).
    """
    if not 0 < finetune < people or not 2 <= places <= len(PLACES) or not 1 <= docs_each <= len(TEMPLATES):
        raise ValueError(f"bad sizes: people={people}, finetune={finetune}, places={places}, docs_each={docs_each}")
    rng = random.Random(seed)
    pool = list(PLACES[:places])
    who = names(rng, people)
    where_ft = [pool[i % places] for i in range(finetune)]
    where_dev = [pool[i % places] for i in range(people - finetune)]
    rng.shuffle(where_ft)
    rng.shuffle(where_dev)
    born = dict(zip(who, where_ft + where_dev, strict=True))
    docs = []
    for name in who:
        year, job = rng.randint(1700, 1950), rng.choice(JOBS)
        for template in rng.sample(TEMPLATES, docs_each):
            docs.append(template.format(name=name, first=name.split()[0], place=born[name], year=year, job=job))
    rng.shuffle(docs)
    corpus = "\n".join(docs)
    train = "\n".join(f"{QUESTION.format(name=n)}\t{born[n]}" for n in who[:finetune])
    dev = [(QUESTION.format(name=n), born[n]) for n in who[finetune:]]
    missing = set("".join(q for q, _ in dev) + train.replace("\t", "").replace("\n", "")) - set(corpus)
    if missing:  # the student's vocabulary comes from the corpus: every character asked must be in it
        raise ValueError(f"characters of the questions missing from the corpus: {sorted(missing)}")
    return Encyclopedia(corpus, train, dev)


def accuracy(predictions, dev):
    """Fraction of dev questions whose predicted place is exactly right (the course's evaluate_places)."""
    if len(predictions) != len(dev):
        raise ValueError(f"{len(predictions)} predictions for {len(dev)} questions")
    return sum(p == place for p, (_, place) in zip(predictions, dev, strict=True)) / len(dev)


def baselines(book):
    """Accuracies that need no knowledge of the dev people: uniform guessing among the finetune places,
    always the finetune set's most common place, and the best single place in hindsight (an upper bound
    for any constant answer)."""
    train = Counter(line.split("\t")[1] for line in book.train_tsv.split("\n"))
    dev = Counter(place for _, place in book.dev)
    n = len(book.dev)
    return {"chance": sum(dev[p] for p in train) / len(train) / n,
            "majority": dev[train.most_common(1)[0][0]] / n,
            "best_constant": dev.most_common(1)[0][1] / n}
