"""Checks of CharCorruptionDataset.__getitem__ (CS224N span corruption), shared by the three offerings.

Structural checks hold on every draw: dtype and length, the one-character shift, two masks and trailing
pads, and the content (prefix + masked + suffix is a prefix of document idx, the masked content right
after the second mask). Statistical checks draw many seeded examples and state their false-fail rate.
Every draw is seeded (random, numpy and torch, by the sandbox) with a seed derived from GRADERS_SEED, so
a regrade sees the same draws and a different GRADERS_SEED sees new ones.

An offering's check module imports these tests; its spec's options say how long x and y are.
"""
import os
from collections import defaultdict
from dataclasses import dataclass

import pytest
import torch

from graders.checks.feedback import Feedback
from graders.problems import CheckFailed, InterfaceError, SubmissionProblem, about
from graders_packs.cs224n.corpus import documents

MASK, PAD = "\u2047", "\u25A1"
SEED = int(os.environ.get("GRADERS_SEED", "0"))
LONG = 300          # longer than any truncation of the blocks used here
SHOWN = 90          # characters of a decoded example shown in feedback


__all__ = ["dataset_py", "layout", "test_span_format", "test_span_shift", "test_span_masks_and_pads",
           "test_span_content", "test_span_truncation_lengths", "test_span_masked_length_mean",
           "test_span_masked_length_random", "test_span_short_documents"]


@pytest.fixture
def dataset_py(submission):
    return submission.module("dataset.py")


@dataclass(frozen=True)
class Layout:
    """How an offering pads: to block_size (2021, 2023: x and y have block_size - 1 ids) or to
    block_size + 1 (2024: block_size ids), as the spec option `span_pad_extra` (0 or 1) says."""
    pad_extra: int
    handout: str

    @classmethod
    def of(cls, spec):
        return cls(spec.options["span_pad_extra"], spec.title.split(":")[0])

    def length(self, block_size):
        return block_size - 1 + self.pad_extra


@pytest.fixture
def layout(submission):
    return Layout.of(submission.spec)


@dataclass
class Draw:
    idx: int
    seed: int
    x: torch.Tensor
    y: torch.Tensor
    text: str = ""       # the masked string: x decoded, plus the last character of y

    def shown(self):
        text = self.text.rstrip(PAD)
        pads = len(self.text) - len(text)
        return repr(text[:SHOWN] + ("…" if len(text) > SHOWN else "") + (f"{PAD}×{pads}" if pads else ""))


@dataclass
class Parsed:
    prefix: str
    suffix: str
    masked: str

    @property
    def truncated(self):
        return self.prefix + self.masked + self.suffix


class Corpus:
    """Documents, the vocabulary the handout's __init__ builds from them, and a dataset in the sandbox."""

    def __init__(self, module, lengths, block_size, salt):
        self.docs = documents(SEED * 7919 + salt, lengths)
        self.data = "\n".join(self.docs)
        self.salt = salt
        chars = [PAD, MASK] + sorted(set(self.data))
        self.itos = dict(enumerate(chars))
        self.call = f"CharCorruptionDataset(data, {block_size})"
        with about(f"{self.call} on the grader's {len(self.docs)} documents", self.call):
            self.dataset = module.CharCorruptionDataset(self.data, block_size)

    def draw(self, n, indices=None):
        """`n` draws, round-robin over `indices` (default: every document), each with its own seed."""
        indices = indices or range(len(self.docs))
        calls = [((indices[i % len(indices)],), SEED * 1_000_003 + self.salt * 10_007 + i) for i in range(n)]
        try:
            got = self.dataset.draws("__getitem__", calls)
        except SubmissionProblem as e:
            if getattr(e, "case", None) is None and getattr(e, "call_index", None) is not None:
                (idx,), seed = calls[e.call_index]
                e.case = (f"dataset[{idx}] of {self.call}, seed {seed}; document {idx} has {len(self.docs[idx])} "
                          "characters")
                e.repro = self.repro(idx, seed)
            raise
        return [self._draw(idx, seed, value) for ((idx,), seed), value in zip(calls, got, strict=True)]

    def _draw(self, idx, seed, value):
        if type(value) not in (tuple, list) or len(value) != 2 or any(type(t) is not torch.Tensor for t in value):
            kind = type(value).__name__
            kind = f"a {len(value)}-item {kind}" if type(value) in (tuple, list) else getattr(value, "type_name", kind)
            raise InterfaceError(f"dataset[{idx}] returned {kind}, expected a tuple (x, y) of two tensors")
        d = Draw(idx, seed, *value)
        if d.x.dim() == 1 and d.y.dim() == 1 and len(d.y) and not d.x.is_floating_point():
            d.text = "".join(self.itos.get(int(i), "?") for i in torch.cat([d.x, d.y[-1:]]).tolist())
        return d

    def document(self, d):
        return self.docs[d.idx]

    def fail(self, summary, d, details=(), bug=None):
        doc = self.document(d)
        shown_doc = repr(doc[:SHOWN] + ("…" if len(doc) > SHOWN else ""))
        raise CheckFailed(Feedback(
            summary, f"dataset[{d.idx}] of {self.call}, seed {d.seed}; document {d.idx} is {shown_doc} "
            f"({len(doc)} characters)", [f"Masked string (x, then the last character of y): {d.shown()}", *details],
            bug, self.repro(d.idx, d.seed)))

    def repro(self, idx, seed):
        return f"random.seed({seed}); numpy.random.seed({seed}); torch.manual_seed({seed}); x, y = {self.call}[{idx}]"


def parse(text):
    """prefix ⁇ suffix ⁇ masked □…□ -> Parsed, or None. The masked content ends at the first pad or mask."""
    body = text.rstrip(PAD)
    parts = body.split(MASK)
    if len(parts) < 3:
        return None
    return Parsed(parts[0], parts[1], parts[2])


def wide_corpus(dataset_py, block_size, salt):
    """Long documents, documents shorter than 7/8 of the block, and short ones (4 to 12 characters)."""
    limit = int(block_size * 7 / 8)
    lengths = [LONG, LONG + 17, limit + 3, limit, limit - 5, block_size // 2, 12, 7, 4, LONG + 40]
    return Corpus(dataset_py, lengths, block_size, salt)


def test_span_format(dataset_py, layout):
    for block_size in (32, 128):
        corpus = wide_corpus(dataset_py, block_size, salt=1)
        want = layout.length(block_size)
        for d in corpus.draw(40):
            for name, t in (("x", d.x), ("y", d.y)):
                if t.dtype != torch.long:
                    corpus.fail(f"{name} has dtype {t.dtype}; x and y must be torch.long (token ids for "
                                "nn.Embedding and cross_entropy)", d)
                if t.shape != (want,):
                    corpus.fail(f"{name} has shape {tuple(t.shape)}, expected ({want},) for block_size {block_size}: "
                                f"the {layout.handout} handout pads the masked string to "
                                f"{'block_size + 1' if layout.pad_extra else 'block_size'} characters", d)


def test_span_shift(dataset_py):
    corpus = wide_corpus(dataset_py, 64, salt=2)
    for d in corpus.draw(40):
        if d.x.shape != d.y.shape or not torch.equal(d.x[1:], d.y[:-1]):
            corpus.fail("y must be x shifted by one character (x = masked_string[:-1], y = masked_string[1:]); "
                        "x[1:] differs from y[:-1]", d)


def test_span_masks_and_pads(dataset_py):
    corpus = wide_corpus(dataset_py, 64, salt=3)
    for d in corpus.draw(60):
        if not d.text:
            corpus.fail("x and y must be 1-D tensors of token ids", d)
        if d.text.count(MASK) != 2:
            corpus.fail(f"the masked string has {d.text.count(MASK)} mask character(s) {MASK!r}, expected exactly 2 "
                        f"(prefix {MASK} suffix {MASK} masked_content)", d)
        body = d.text.rstrip(PAD)
        if PAD in body:
            corpus.fail(f"a pad character {PAD!r} stands before the end of the text; pads go only at the end", d)


def test_span_content(dataset_py):
    corpus = wide_corpus(dataset_py, 64, salt=4)
    for d in corpus.draw(60):
        parsed = parse(d.text)
        if parsed is None:
            corpus.fail(f"cannot find prefix {MASK} suffix {MASK} masked_content in the masked string", d)
        doc = corpus.document(d)
        if doc.startswith(parsed.truncated):
            continue
        bug = None
        if doc.startswith(parsed.prefix + parsed.suffix + parsed.masked):
            bug = (f"suffix and masked content swapped: the string reads prefix {MASK} masked_content {MASK} "
                   "suffix")
        elif any(other.startswith(parsed.truncated) for other in corpus.docs if other != doc):
            bug = "the example comes from another document than document idx"
        corpus.fail(f"prefix + masked_content + suffix = {parsed.truncated[:SHOWN]!r} is not the start of document "
                    f"{d.idx}", d, [f"Read as prefix={parsed.prefix[:40]!r}, suffix={parsed.suffix[:40]!r}, "
                                    f"masked_content={parsed.masked[:40]!r}"], bug)


def measured(corpus, n, indices):
    """Draws with their spans, read leniently so that a structural bug is charged to its own check only:
    suffix and masked content in either order, from any document. Draws that cannot be read are left out."""
    out = []
    for d in corpus.draw(n, indices):
        p = parse(d.text)
        if p is None:
            continue
        swapped = Parsed(p.prefix, p.masked, p.suffix)
        for reading in (p, swapped):
            if any(doc.startswith(reading.truncated) for doc in corpus.docs):
                out.append((d, reading))
                break
    if len(out) < n // 2:
        raise CheckFailed(Feedback(f"only {len(out)} of {n} draws read as prefix {MASK} suffix {MASK} masked_content "
                                   "over the start of a document, too few to measure the masked length; see the "
                                   "structural checks"))
    return out


def kept(d):
    """How many characters of the document the example keeps: all but the masks and the pads."""
    return len(d.text.rstrip(PAD)) - d.text.count(MASK)


def test_span_truncation_lengths(dataset_py):
    """Every truncation length from 4 to int(7/8·block_size) occurs, and no other.

    Block 32 gives 25 lengths (4..28). With N = 800 draws of documents longer than any truncation, a uniform
    draw misses a given length with probability (24/25)^800 = 6.5e-15, all 25 together below 1.7e-13: the
    false-fail rate. `randrange(4, 28)` never gives 28 and fails every time.
    """
    block = 32
    limit = int(block * 7 / 8)
    corpus = Corpus(dataset_py, [LONG, LONG + 1, LONG + 2, LONG + 3], block, salt=5)
    seen = defaultdict(list)
    for d in corpus.draw(800, [0, 1, 2, 3]):
        n = kept(d)
        if not 4 <= n <= limit:
            corpus.fail(f"the document was truncated to {n} characters; with block_size {block} the length must be "
                        f"from 4 to int({block}*7/8) = {limit}", d)
        seen[n].append(d)
    missing = sorted(set(range(4, limit + 1)) - set(seen))
    if missing:
        bug = (f"the longest truncation, {limit}, is never drawn (random.randrange excludes its upper end)"
               if missing == [limit] else None)
        raise CheckFailed(Feedback(
            f"truncation lengths {missing} never occurred in 800 draws from documents of {LONG}+ characters with "
            f"block_size {block}; every length from 4 to {limit} must be possible", details=[
                f"Lengths seen: {min(seen)} to {max(seen)}" if seen else "no draw could be measured"], bug=bug))


def test_span_masked_length_mean(dataset_py):
    """Σ masked length / Σ truncated length over N = 2000 draws (block 128) lies in [0.2, 0.3].

    Correct readings give 0.24 to 0.26 (randint(1, L//2), randint(0, L//2), a Gaussian around L/4, a length
    uniform up to L - start), so a false fail needs the ratio to stray at least 0.04, i.e. the mean of
    m - r·L (r the reading's ratio) to stray 0.04·E[L] = 2.3 characters. Masked lengths are at most L <= 112,
    so |m - r·L - mean| <= 90, and their variance is at most 212 for the readings above. Bernstein's
    inequality bounds the chance by 2·exp(-2000·2.3² / (2·212 + 2·90·2.3/3)) = 1.4e-8: the false-fail rate.
    """
    block = 128
    corpus = Corpus(dataset_py, [LONG, LONG + 5, LONG + 9], block, salt=6)
    draws = measured(corpus, 2000, [0, 1, 2])
    masked = sum(len(p.masked) for _, p in draws)
    truncated = sum(len(p.truncated) for _, p in draws)
    ratio = masked / truncated
    if 0.2 <= ratio <= 0.3:
        return
    if all(len(p.masked) == 1 for _, p in draws):
        bug = "the masked content is always one character long"
    elif any(len(p.masked) > len(p.truncated) // 2 + 1 for _, p in draws) and ratio > 0.3:
        bug = "masked length drawn from the untruncated document's length"
    else:
        bug = None
    d, p = max(draws, key=lambda dp: abs(len(dp[1].masked) / max(1, len(dp[1].truncated)) - 0.25))
    raise CheckFailed(Feedback(
        f"masked content averages {ratio:.3f} of the truncated length over {len(draws)} draws (block_size {block}); "
        "its expected length must be 1/4 of the truncated document", details=[
            f"For example, dataset[{d.idx}] with seed {d.seed}: {len(p.masked)} of {len(p.truncated)} characters "
            f"masked: {d.shown()}"], bug=bug))


def test_span_masked_length_random(dataset_py):
    """For a fixed truncated length the masked length must vary.

    1000 draws (block 128) put about 9 draws on each truncated length; the check fails only if every length
    seen at least 5 times has a single masked length. A correct draw has at least 2 values for L >= 4 (at
    least 4 for L >= 16), so the false-fail rate is below (1/4)^4 per long group, and far below 1e-6 for the
    dozens of groups together.
    """
    corpus = Corpus(dataset_py, [LONG, LONG + 5, LONG + 9], 128, salt=7)
    by_length = defaultdict(list)
    for _, p in measured(corpus, 1000, [0, 1, 2]):
        by_length[len(p.truncated)].append(len(p.masked))
    groups = {n: set(v) for n, v in by_length.items() if len(v) >= 5}
    if groups and all(len(v) == 1 for v in groups.values()):
        shown = ", ".join(f"L={n}: {next(iter(v))}" for n, v in sorted(groups.items())[:6])
        raise CheckFailed(Feedback(
            "the masked length is a fixed function of the truncated length; it must be random (mean 1/4 of it)",
            details=[f"Masked length per truncated length L over 1000 draws: {shown}, …"],
            bug="fixed span length"))


def test_span_short_documents(dataset_py):
    """Documents of 0 to 4 characters (an empty last document, as a file ending in a newline makes, among
    them) are kept whole, since every truncation is at least 4 long; and nothing crashes."""
    corpus = Corpus(dataset_py, [12, 4, 3, 2, 1, 40, 0], 64, salt=8)
    for d in corpus.draw(70):
        doc = corpus.document(d)
        if len(doc) <= 4 and sorted(d.text.replace(MASK, "").replace(PAD, "")) != sorted(doc):
            corpus.fail(f"a document of {len(doc)} characters must be kept whole (the truncation length is at least "
                        f"4), but the example keeps {kept(d)} of its characters", d)
