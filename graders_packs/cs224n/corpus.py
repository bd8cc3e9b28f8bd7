"""Wiki-like synthetic documents for span corruption: one short biography a line, of many lengths.

The grader makes its own text (no course data at run time), so a student cannot tune to it, and the
lengths cover what the checks need: documents longer than any truncation, documents shorter than 7/8 of
the block, and documents of a few characters.
"""
import random

FIRST = ["Ada", "Bruno", "Chiara", "Dmitri", "Efua", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kalani", "Leila"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Costa", "Haddad", "Novak", "Quispe", "Rahman", "Schulz"]
PLACES = ["Lisbon", "Accra", "Osaka", "Tartu", "Cusco", "Halifax", "Tunis", "Graz", "Dhaka", "Perth", "Oaxaca"]
JOBS = ["painter", "chemist", "poet", "cartographer", "engineer", "violinist", "botanist", "historian"]


def sentence(rng):
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    born = rng.randint(1700, 1999)
    return rng.choice([
        f"{name} ({born}-{born + rng.randint(20, 90)}) was a {rng.choice(JOBS)} born in {rng.choice(PLACES)}.",
        f"{name} studied in {rng.choice(PLACES)} and worked as a {rng.choice(JOBS)} from {born + 20}.",
        f"In {born}, {name} moved to {rng.choice(PLACES)}, where the family kept a small shop.",
    ])


def document(rng, length):
    """A document of exactly `length` characters, cut from a run of sentences."""
    text = ""
    while len(text) < length:
        text += (" " if text else "") + sentence(rng)
    return text[:length]


def documents(seed, lengths):
    rng = random.Random(seed)
    return [document(rng, n) for n in lengths]
