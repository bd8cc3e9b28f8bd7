"""Language-model threshold jobs, grader side, for any assignment whose model predicts the next token
(JHU CS 601 hw5's GPT, UCSD CSE 256 PA2's decoder): synthetic text, held-out questions without their answers,
and the perplexity the grader computes from what the job returns.

The grader cuts the held-out text into contexts and keeps each context's next token; the job gets the contexts
only and returns the model's logits for the next token of each. The grader takes the log-softmax itself, so a
job can neither see the answers nor hand back a distribution that is not one; a job that returns made-up logits
gets the perplexity those logits earn. The metric is the unigram model's perplexity on the same answers divided
by the model's (how many times better than counting characters), which does not depend on the text's size or
alphabet. Causality is checked on the trained model with probe pairs (leak).

Synthetic text: sentences of a small stochastic grammar over made-up words, with number agreement between a
subject and its verb a few words later (`the dogs ... run` / `the dog ... runs`), so a model that attends past
the last few characters does better than one that only counts bigrams.
"""
import math
import random
from collections import Counter
from pathlib import Path

import torch

ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr")
VOWELS = ("a", "e", "i", "o", "u")
CODAS = ("", "n", "l", "r", "m")
# The smoke profile's sizes (benchmarks/gpt_lm_smoke.py calibrates them with the job's SMOKE hyper-parameters).
SMOKE = {"train_chars": 60000, "heldout_chars": 12000, "contexts": 512, "context_length": 32, "probe_pairs": 4}
PROBE_PAIRS = SMOKE["probe_pairs"]
CAUSAL_ATOL = 1e-4  # float32 logits of the same prefix, computed in two forward passes
JOB_WEIGHTS = Path(__file__).with_name("job_weights.py")  # every job's first module (graders.jobs.JobSource)
PROBE_MODES = ("eval", "train")  # the probes run in both: attention that masks in one mode only leaks in the other


def _word(rng, syllables):
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables))


def lexicon(rng):
    """Made-up nouns, verbs and adjectives, each word unique and none ending in s (the plural mark)."""
    seen, words = set(), {}
    for kind, n in (("noun", 16), ("verb", 10), ("adj", 8)):
        words[kind] = []
        while len(words[kind]) < n:
            w = _word(rng, rng.choice((1, 2)))
            if w not in seen and not w.endswith("s"):
                seen.add(w)
                words[kind].append(w)
    return words


def sentence(rng, words):
    """DET (ADJ) NOUN[s] (that VERB[s] DET NOUN) VERB[s agreeing with the subject] DET (ADJ) NOUN[s] ."""
    def phrase(plural):
        adj = f"{rng.choice(words['adj'])} " if rng.random() < 0.4 else ""
        det = "the" if plural else rng.choice(("the", "a"))
        return f"{det} {adj}{rng.choice(words['noun'])}{'s' if plural else ''}"

    def verb(plural):
        return rng.choice(words["verb"]) + ("" if plural else "s")

    plural = rng.random() < 0.5
    subject = phrase(plural)
    if rng.random() < 0.3:
        subject += f" that {verb(plural)} {phrase(rng.random() < 0.5)}"
    return f"{subject} {verb(plural)} {phrase(rng.random() < 0.5)} ."


def text(seed, chars, sentences=None):
    """About `chars` characters of sentences, one a line, from the grammar with lexicon `seed`, the sentences drawn
    from `sentences` (a seed; default `seed`)."""
    rng = random.Random(seed if sentences is None else sentences)
    words, out, n = lexicon(random.Random(seed)), [], 0
    while n < chars:
        out.append(sentence(rng, words))
        n += len(out[-1]) + 1
    return "\n".join(out) + "\n"


def corpus(seed, sizes=SMOKE):
    """(training text, held-out text) of the grammar: the same lexicon, different sentences; the held-out ones from
    a stream of their own, so that no state of the training text's generator leads to them."""
    return text(seed, sizes["train_chars"]), text(seed, sizes["heldout_chars"], f"{seed} held out")


def questions(heldout, vocab, n, length, seed):
    """`n` contexts of `length` ids from the held-out text, and the id that follows each (kept by the grader)."""
    rng, stoi = random.Random(seed), {c: i for i, c in enumerate(vocab)}
    ids = [stoi[c] for c in heldout if c in stoi]
    if len(ids) <= length:
        raise ValueError(f"the held-out text has {len(ids)} known characters, fewer than a context of {length}")
    starts = [rng.randrange(len(ids) - length) for _ in range(n)]
    return [ids[s:s + length] for s in starts], [ids[s + length] for s in starts]


def probe_pairs(vocab_size, length, seed, pairs=PROBE_PAIRS):
    """Pairs of id sequences that agree before a cut and differ at every position from it on, and the cuts."""
    rng, sequences, cuts = random.Random(seed), [], []
    for _ in range(pairs):
        a = [rng.randrange(vocab_size) for _ in range(length)]
        cut = rng.randrange(1, length)
        sequences += [a, a[:cut] + [(t + rng.randrange(1, vocab_size)) % vocab_size for t in a[cut:]]]
        cuts.append(cut)
    return sequences, cuts


def log_softmax_at(logits, target):
    """log p(target) under softmax(logits), computed here from the job's raw numbers."""
    if not isinstance(logits, list) or not all(isinstance(v, int | float) and math.isfinite(v) for v in logits):
        raise ValueError("a context's logits are not a list of finite numbers")
    top = max(logits)
    return logits[target] - top - math.log(sum(math.exp(v - top) for v in logits))


def log_probs(logits, answers, vocab_size):
    """log p(answer) of each context, from the job's next-token logits."""
    if not isinstance(logits, list) or len(logits) != len(answers):
        raise ValueError(f"the job returned {type(logits).__name__} logits for {len(answers)} contexts")
    if any(not isinstance(row, list) or len(row) != vocab_size for row in logits):
        raise ValueError(f"every context needs {vocab_size} logits, one per token of the vocabulary")
    return [log_softmax_at(row, a) for row, a in zip(logits, answers, strict=True)]


def perplexity(log_probs):
    """exp of the mean negative log-probability."""
    return math.exp(-sum(log_probs) / len(log_probs))


def unigram_perplexity(train_ids, answers, vocab_size):
    """The perplexity of add-one token counts from the training text on the answers: the baseline."""
    counts, total = Counter(train_ids), len(train_ids) + vocab_size
    return math.exp(-sum(math.log((counts[a] + 1) / total) for a in answers) / len(answers))


def curves_figure(curves, title="Training loss"):
    """The report's figure of the job's loss curves ({phase: [[step, loss], ...]}), or none."""
    series = [{"label": phase, "x": [p[0] for p in points], "y": [p[1] for p in points]}
              for phase, points in curves.items() if points]
    figure = {"kind": "curves", "title": title, "x_label": "step", "y_label": "loss", "series": series}
    return [figure] if series else []


def leak(result, cuts):
    """The first probe pair whose logits before the cut differ, as (mode, pair, position, difference), or None.
    The job runs each half of the pairs as one batch in eval mode and in train mode (jobs' probe): a tensor
    (pairs, length, vocabulary) per half and mode."""
    logits = result.get("probe_logits")
    if not isinstance(logits, dict) or sorted(logits) != sorted(PROBE_MODES):
        raise ValueError("the job returned no logits for the probes")
    for mode in PROBE_MODES:
        halves = logits[mode]
        if not isinstance(halves, list) or len(halves) != 2 or not all(
                type(h) is torch.Tensor and h.is_floating_point() and h.dim() == 3 and h.shape[0] == len(cuts)
                and h.shape[1] > max(cuts) for h in halves) or halves[0].shape != halves[1].shape:
            raise ValueError(f"the job's {mode}-mode probe logits are not one tensor per half of the probe pairs")
        a, b = (h.double() for h in halves)
        if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
            raise ValueError(f"the job's {mode}-mode probe logits are not finite")
        for i, cut in enumerate(cuts):
            diff = (a[i, :cut] - b[i, :cut]).abs().amax(-1)
            moved = (diff > CAUSAL_ATOL).nonzero()
            if len(moved):
                t = int(moved[0, 0])
                return mode, i, t, float(diff[t])
    return None


def timings(result):
    """The job's phase timings as a line for the student, or none."""
    seconds = result.get("seconds") or {}
    return ["trained in " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())] if seconds else []


def sees_the_future(result, cuts, who="model", subject="attention"):
    """(the bug, the line showing it) when the trained model's probe logits move before their cut, else
    (None, []): every threshold job whose model reads a sequence is checked this way."""
    found = leak(result, cuts)
    if not found:
        return None, []
    mode, pair, t, diff = found
    return f"{subject} sees the future", [f"the trained {who}'s logits at position {t} changed by {diff:.3g} when only "
                                          f"later tokens changed (probe pair {pair + 1} of a batch of {len(cuts)}, "
                                          f"{mode} mode): {subject} must not see the future"]
