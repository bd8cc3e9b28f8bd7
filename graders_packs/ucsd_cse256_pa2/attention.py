"""The checks that need the reference's attention: the scale, from the first layer rebuilt with the student's own
weights (part 3's ALiBi slopes are in alibi.py).

The grader reads the model's state_dict, gives the token embedding rows of zero mean and unit variance (so
a pre-LN block's LayerNorm, at its initial weights, leaves them as they are) and zeroes a learned position
embedding, so the first attention layer sees known inputs. Its query and key projections are first looked for by
their usual names (query/key, q_proj/k_proj, W_q/W_k, fused qkv or c_attn); when the names say nothing, by
behaviour: every pair of the model's weight tensors (whole, split into heads, or thirds of a fused one, applied
as x W^T or x W) is ranked by how well its scores q k^T explain the log of the maps, and the best are fitted
exactly. The student's first-layer maps are compared with softmax(q k^T / s) under every reading found, for the
correct scale and the known bugs, with named weights either way round: k q^T (the transposed attention matrix)
fails the orientation check on its own, whatever its scale, and the scale check only on its scale. A check that
can read neither way says "could not be checked" (NotChecked): 0 points until course staff decide, never full
marks by default.
"""
import math
import re
import secrets
import types
from typing import NamedTuple

import torch
from torch.nn import functional as F

from graders.problems import NotChecked, about
from graders_packs.ucsd_cse256_pa2 import mainpy, models, roles
from graders_packs.ucsd_cse256_pa2.reference import attention_probs
from graders_packs.ucsd_cse256_pa2.roles import ATOL, B, fail, maps_of, model_for

__all__ = ["test_encoder_scale", "test_decoder_scale", "test_encoder_scores_orientation",
           "test_decoder_scores_orientation"]
KIT = "withheld"
KIT_WHY = ("they read the first attention layer with the student's own weights, so the reference's maps on them "
           "are new for every submission and a kit could replay none")

SUFFIX = r"(_?(proj|linear|lin|layer|net|mat|w|weight|fc))?$"
QUERY = re.compile(r"^(w_?)?q(uer(y|ies))?" + SUFFIX + r"|^(to|proj|linear|lin)_q(uery)?$")
KEY = re.compile(r"^(w_?)?k(eys?)?" + SUFFIX + r"|^(to|proj|linear|lin)_k(ey)?$")
FUSED = re.compile(r"qkv|c_attn|in_proj")
CANDIDATES = 5  # the best-ranked pairs of weight tensors that by_behaviour fits exactly
FIXED_SEEDS = (3, 4)  # the embedding rows' and the token ids' seeds of the reproducible look
ORIENTATION = "scores transposed: q @ kᵀ expected (the code computes k @ qᵀ)"


def role_of(name):
    """'q', 'k', 'qkv' or None, from a state_dict key such as `blocks.0.sa.heads.1.query.weight`."""
    parts = name.lower().split(".")
    if parts[-1] == "bias":
        return None
    module = parts[-2] if parts[-1] == "weight" and len(parts) > 1 else parts[-1]
    if FUSED.search(module):
        return "qkv"
    return "q" if QUERY.match(module) else "k" if KEY.match(module) else None


def first_layer(state, n_embd, n_head):
    """[(q weights, k weights)] readings of the first attention layer: each a list of per-head (d, E) matrices
    and biases, as `x @ W.T + b` applies them; [] when the names are not recognized."""
    hd = n_embd // n_head
    found = {"q": [], "k": [], "qkv": []}
    shapes = {"q": {(n_embd, n_embd), (hd, n_embd), (n_embd, hd)}, "qkv": {(3 * n_embd, n_embd), (n_embd, 3 * n_embd)}}
    shapes["k"] = shapes["q"]
    for name, t in state.items():
        r = role_of(name)
        if r and type(t) is torch.Tensor and tuple(t.shape) in shapes[r]:
            found[r].append((t.double(), bias_of(state, name)))
    readings = []
    if found["q"] and found["k"]:
        readings += [(heads(found["q"], n_embd, n_head, hd, o), heads(found["k"], n_embd, n_head, hd, o))
                     for o in (False, True)]
    if found["qkv"]:
        w, b = found["qkv"][0]
        for o in (False, True):
            w_ = w.T if o else w
            if w_.shape == (3 * n_embd, n_embd):
                parts = [(w_[i * n_embd:(i + 1) * n_embd], None if b is None else b[i * n_embd:(i + 1) * n_embd])
                         for i in range(3)]
                readings.append(tuple(heads([p], n_embd, n_head, hd, False) for p in parts[:2]))
    return [r for r in readings if r[0] and r[1]]


def bias_of(state, name):
    b = state.get(name[:-len("weight")] + "bias") if name.endswith("weight") else None
    return b.double() if type(b) is torch.Tensor else None


def heads(weights, n_embd, n_head, hd, transposed):
    """The first layer's per-head (W, b) with W of shape (hd, E), or [] when the shapes do not fit."""
    weights = [((w.T if transposed else w), b) for w, b in weights]
    if weights and weights[0][0].shape == (n_embd, n_embd):
        w, b = weights[0]
        return [(w[h * hd:(h + 1) * hd], None if b is None else b[h * hd:(h + 1) * hd]) for h in range(n_head)]
    per_head = [(w, b) for w, b in weights[:n_head] if w.shape == (hd, n_embd)]
    return per_head if len(per_head) == n_head else []


def sinusoid(T, E):
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, E, 2, dtype=torch.float64) / E)
    pe = torch.zeros(T, E, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


def inputs(rows, learned_positions):
    """The first layer's possible inputs (B, T, E): scaled by sqrt(E) or not, sinusoidal positions added when
    no learned ones were found, through a LayerNorm (pre-LN) or not."""
    T, E = rows.shape[1], rows.shape[2]
    out = []
    for factor in (1.0, math.sqrt(E)):
        for pe in ([None] if learned_positions else [None, sinusoid(T, E)]):
            x = rows * factor + (0 if pe is None else pe)
            out += [x, F.layer_norm(x, (E,), eps=1e-5)]
    return out


def projections(x, readings):
    """(q, k) of shape (B, h, T, head_dim) for every reading of the first layer's weights."""
    for q_w, k_w in readings:
        yield tuple(torch.stack([x @ w.T + (0 if b is None else b) for w, b in ws], 1) for ws in (q_w, k_w))


def variants(x, readings, causal):
    """(name, per-head maps (B, h, T, T)) for every reading: the correct scale first, then the known bugs."""
    out = []
    for q, k in projections(x, readings):
        hd, E = q.shape[-1], q.shape[-1] * q.shape[1]
        out += [("correct", attention_probs(q, k, causal)),
                ("scores scaled by 1/sqrt(n_embd) instead of 1/sqrt(head_dim)",
                 attention_probs(q * math.sqrt(hd / E), k, causal)),
                ("scores not scaled (1/sqrt(head_dim) missing)", attention_probs(q * math.sqrt(hd), k, causal))]
    return out


def oriented(readings):
    """The readings of named query and key weights, then each with the two swapped (k q^T): read() returns an
    index past len(readings) for a model whose scores are transposed, whatever its scale."""
    return readings + [(k, q) for q, k in readings]


def like(expected, got):
    """`expected` (B, h, T, T) as the student's maps hold it: the first example, the heads' mean when the
    student keeps one map per layer."""
    expected = expected[:got.shape[0]]
    return expected if got.shape[1] == expected.shape[1] else expected.mean(1, keepdim=True)


def fitted_divisor(got, q, k, causal):
    """The s for which softmax(q k^T / s) gives the maps `got`, or None: a scan over six decades of s, then a
    golden-section search around the best point of the scan."""
    hd = q.shape[-1]

    def maps(log_s):
        return like(attention_probs(q * math.sqrt(hd) / math.exp(log_s), k, causal), got)

    def error(log_s):
        return float((maps(log_s) - got).abs().max())

    if maps(0.0).shape != got.shape:
        return None
    grid = [math.log(10.0) * (i / 10 - 2) for i in range(61)]  # s from 1e-2 to 1e4
    i = min(range(len(grid)), key=lambda i: error(grid[i]))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(40):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        a, b = (a, d) if error(c) < error(d) else (c, b)
    return math.exp((a + b) / 2) if error((a + b) / 2) <= ATOL else None


def divided_by(s, hd, E):
    """The bug of scores divided by `s`, named by the sizes it equals."""
    names = {hd: "head_dim", E: "n_embd", math.sqrt(E): "sqrt(n_embd)", 1 / math.sqrt(hd): "1/sqrt(head_dim)"}
    named = next((f" = {n}" for v, n in names.items() if abs(s / v - 1) < 1e-3), "")
    return f"scores divided by {s:.4g}{named} instead of sqrt(head_dim) = {math.sqrt(hd):.4g}"


def normalized_rows(V, E, seed):
    g = torch.Generator().manual_seed(seed)
    rows = torch.randn(V, E, generator=g)
    return (rows - rows.mean(-1, keepdim=True)) / rows.std(-1, unbiased=False, keepdim=True)


def groups(state, skip, n_embd, n_head):
    """[(label, per-head [(W (head_dim, E), b)])]: every way one tensor of the state_dict (but those in `skip`)
    can give all heads' projections x W^T + b, whatever it is called: each (E, E) block of its rows split into
    heads (a fused tensor has two or three), applied as x W^T or as x W; an (n_head, ...) stack of per-head
    matrices; per-head (head_dim, E) tensors gathered across names that differ in one index (heads.0.a, heads.1.a)."""
    hd, out, per_head = n_embd // n_head, [], {}
    for name, t in state.items():
        if name in skip or type(t) is not torch.Tensor or not t.is_floating_point() or t.dim() not in (2, 3):
            continue
        t, b = t.double(), bias_of(state, name)
        for transposed in (False, True):
            how = " applied as x W" if transposed else ""
            if t.dim() == 3:
                ws = [m.T if transposed else m for m in t]
                if t.shape[0] == n_head and ws[0].shape == (hd, n_embd):
                    out.append((name + how, [(w, None) for w in ws]))
                continue
            w = t.T if transposed else t
            bias = b if not transposed and b is not None and b.shape == w.shape[:1] else None
            rows = w.shape[0]
            if w.shape[1] != n_embd:
                continue
            if rows % n_embd == 0 and rows <= 3 * n_embd:
                for i in range(0, rows, n_embd):
                    part = slice(i, i + n_embd)
                    label = name + (f" rows {i}:{i + n_embd}" if rows > n_embd else "") + how
                    out.append((label, heads([(w[part], None if bias is None else bias[part])], n_embd, n_head, hd,
                                             False)))
            elif rows == hd:
                per_head.setdefault((re.sub(r"\.\d+\.(?!.*\.\d+\.)", ".*.", name), how), []).append((w, bias))
    return out + [(f"{key} (one per head){how}", ws) for (key, how), ws in per_head.items() if len(ws) == n_head]


class Effects:
    """Least-squares row and column effects on the support of one map (T, T), the entries it does not set to 0:
    a softmax over rows or over columns, and a mask applied before or after it, change a map's logs only by
    such effects, so what is left of the logs, the residual, shows the scores q k^T / s whatever the mask."""

    def __init__(self, support):
        rows, cols = support.nonzero(as_tuple=True)
        T = support.shape[-1]
        X = torch.cat([F.one_hot(rows, T), F.one_hot(cols, T)], 1).double()
        self.support, self.inverse = support, torch.linalg.pinv(X.T @ X)

    def sums(self, a):
        a = a.masked_fill(~self.support, 0)
        return torch.cat([a.sum(-1), a.sum(-2)], -1)

    def residual(self, a):
        """`a` (..., T, T) less its best row and column effects, 0 off the support."""
        T, beta = a.shape[-1], self.sums(a) @ self.inverse
        return (a - beta[..., :T, None] - beta[..., None, T:]).masked_fill(~self.support, 0)

    def left(self, a):
        """The squared norm of residual(a), from the sums alone."""
        r = self.sums(a)
        return a.masked_fill(~self.support, 0).pow(2).sum((-2, -1)) - ((r @ self.inverse) * r).sum(-1)


class LogMaps:
    """Per (example, head) map: its Effects and the residual of its logs."""

    def __init__(self, got):
        self.got = got
        self.effects = [[Effects(m > 0) for m in example] for example in got]
        self.logs = [[e.residual(m.clamp(min=1e-300).log()) for e, m in zip(es, ex, strict=True)]
                     for es, ex in zip(self.effects, got, strict=True)]

    def scale(self, q, k):
        """(divisor, with or without which softmax(q k^T / divisor) explains the maps up to row and column effects,
        'correct' where sqrt(head_dim) does) or None: per-head maps only, and only where the support leaves the
        scores a residual (a map that attends to one key a row tells nothing)."""
        scores = q[:self.got.shape[0]] @ k[:self.got.shape[0]].transpose(-2, -1)
        slices = [(e, log, s) for es, ls, ss in zip(self.effects, self.logs, scores, strict=True)
                  for e, log, s in zip(es, ls, ss, strict=True)]
        pairs = [(e.residual(s), log) for e, log, s in slices]
        left = sum(float(r.pow(2).sum()) for r, _ in pairs)
        whole = sum(float((s[e.support] - s[e.support].mean()).pow(2).sum()) for e, _, s in slices)
        if left < 0.25 * whole:
            return None
        c = sum(float((r * log).sum()) for r, log in pairs) / left
        for divisor in (math.sqrt(q.shape[-1]), 1 / c if c > 0 else None):
            if divisor and all(self.explained(log, r / divisor, m) for (r, log), m in
                               zip(pairs, self.got.flatten(0, 1), strict=True)):
                return divisor
        return None

    @staticmethod
    def explained(log, scores, got):
        """Whether the map equals softmax of the scores but for row and column effects, within ATOL."""
        return float((got * (scores - log).exp() - got).abs().max()) <= ATOL


def ranked(got, xs, groups):
    """Pairs (i, j) of `groups` as (query, key), best first: how well the scores q_i k_j^T explain the logs of the
    first example's maps once row and column effects are removed from both (their correlation: 1 for
    softmax(q_i k_j^T / s) at any s, over either axis, with any mask; only a ranking, the best are then read
    exactly), at the input of `xs` where it is highest."""
    maps = LogMaps(got[:1])
    effects, logs = maps.effects[0], maps.logs[0]
    norm = sum(float(log.pow(2).sum()) for log in logs)
    best = torch.full((len(groups), len(groups)), -1.0, dtype=torch.float64)
    for x in xs:
        proj = torch.stack([torch.stack([x[0] @ w.T + (0 if b is None else b) for w, b in ws]) for _, ws in groups])
        for i in range(len(groups)):
            scores = torch.einsum("htd,ghsd->ghts", proj[i], proj)
            scores = scores.mean(1, keepdim=True) if got.shape[1] == 1 else scores
            num = sum((scores[:, h] * logs[h]).sum((-2, -1)) for h in range(len(logs)))
            left = sum(e.left(scores[:, h]) for h, e in enumerate(effects))
            best[i] = torch.maximum(best[i], num / (left.clamp(min=1e-300) * norm).sqrt())
    order = best.flatten().argsort(descending=True).tolist()
    return [divmod(p, len(groups)) for p in order]


def read(got, xs, readings, causal):
    """(what the first layer's maps show: 'correct', a known bug or a fitted divisor, the index of the reading
    that shows it), or None: exact matches at every input first, then fits (a bias-free projection of an input
    scaled by c reads as the scale over c^2): per-head maps up to row and column effects, so that a wrong mask or
    softmax axis, which other checks judge, does not hide the scale; the heads' mean by softmax(q k^T / s)."""
    for x in xs:
        for i, reading in enumerate(readings):
            for name, expected in variants(x, [reading], causal):
                expected = like(expected, got)
                if got.shape == expected.shape and torch.allclose(got, expected, atol=ATOL, rtol=0):
                    return name, i
    maps = LogMaps(got) if got.shape[1] > 1 else None
    for x in xs:
        for i, reading in enumerate(readings):
            for q, k in projections(x[:got.shape[0]], [reading]):
                hd = q.shape[-1]
                s = maps.scale(q, k) if maps else fitted_divisor(got, q, k, causal)
                if s is not None:
                    return "correct" if s == math.sqrt(hd) else divided_by(s, hd, hd * q.shape[1]), i
    return None


def by_behaviour(got, xs, state, skip, causal):
    """read() over the best-ranked pairs of the model's weight tensors, whatever their names: (verdict, where q
    and k come from, in words), or (None, None)."""
    hp = roles.HP
    found = groups(state, skip, hp["n_embd"], hp["n_head"])
    pairs = ranked(got, xs, found)[:CANDIDATES] if found else []
    verdict = read(got, xs, [(found[i][1], found[j][1]) for i, j in pairs], causal)
    if verdict is None:
        return None, None
    i, j = pairs[verdict[1]]
    return verdict[0], f"q from {found[i][0]}, k from {found[j][0]}"


class Reading(NamedTuple):
    """What the first layer's maps show: the scale's verdict ('correct', a known bug or a fitted divisor), where q
    and k came from when found by behaviour (None: by name), whether the named query and key are swapped (k q^T),
    the case and the repro."""
    verdict: str
    where: str | None
    transposed: bool
    case: str
    repro: str


def reading(submission, model, causal):
    """The Reading of the model's first layer, made once per model and shared by the scale and orientation checks
    (NotChecked, raised again for each, where it cannot be made)."""
    def read():
        try:
            return read_first_layer(submission, model, causal)
        except NotChecked as e:
            return e
    got = submission.memo(("pa2 reading", model.cls, causal), read)
    if isinstance(got, NotChecked):
        raise NotChecked(str(got))
    return got


def read_first_layer(submission, model, causal):
    """The first layer's maps read as softmax(q k^T / s) of the student's own projections, twice: at the grader's
    fixed inputs (reproducible) and at fresh random ones, so that a term fitted to the fixed inputs (one that depends
    on positions, say) cannot pass for the scale. A model whose head count, and so head_dim, the grader cannot tell
    is not read at all."""
    hp, T = roles.HP, roles.HP["block_size"]
    V, E = hp["vocab_size"], hp["n_embd"]
    state = model.obj.state_dict()
    # every (vocab_size, n_embd) tensor: the token embedding, and an output layer tied to it or not (the first
    # layer's maps do not depend on it)
    emb = [k for k, v in state.items() if type(v) is torch.Tensor and tuple(v.shape) == (V, E)]
    if not emb:
        raise NotChecked(f"could not be checked: {model.cls} keeps no tensor of shape (vocab_size, n_embd) = ({V}, "
                         f"{E}) in its state_dict, so the grader cannot give its first layer known inputs")
    # (block_size, n_embd) is also the shape of a head's projection with the handout's sizes: go by name too
    positions = [k for k, v in state.items() if v.shape == (T, E) and role_of(k) is None
                 and k not in emb and any(w in k.lower() for w in ("pos", "wpe", "emb"))]
    verdict, where, transposed, got, case, repro = look(model, state, emb, positions, causal, FIXED_SEEDS)
    unknown = unknown_heads(submission, model, got)
    if unknown:
        raise NotChecked(f"could not be checked: {unknown}, so the grader cannot tell head_dim and the scale it "
                         "calls for; course staff decide this check")
    if verdict is None:
        raise NotChecked(
            f"could not be checked: {model.cls}'s first-layer maps equal softmax(q k^T / s) for no divisor s, with "
            "q and k from the weights named as queries and keys (either way round) or from any pair of its weight "
            "tensors (as x W^T + b or x W, whole, per head or part of a fused one), on every input the grader can "
            "give that layer (token embedding rows, learned positions zeroed by name or sinusoidal ones added, with "
            "or without a LayerNorm or a sqrt(n_embd) factor); course staff decide this check")
    fresh = tuple(secrets.randbelow(1 << 30) for _ in FIXED_SEEDS)
    again = look(model, state, emb, positions, causal, fresh)
    if again[:3] != (verdict, where, transposed):
        raise NotChecked(
            f"could not be checked: {model.cls}'s first-layer maps read as '{verdict}' at the grader's fixed inputs "
            f"but as '{again[0] or 'no divisor at all'}'{' (transposed)' if again[2] else ''} at fresh random ones "
            f"(embedding rows seed {fresh[0]}, token ids seed {fresh[1]}): its scores hold a term besides q k^T "
            "that depends on the positions or on the inputs, so they cannot be read; course staff decide this check")
    return Reading(verdict, where, transposed, case, repro)


def expect_scale(submission, model, causal):
    """The first layer's maps equal softmax(q k^T / sqrt(head_dim)), either way round: the orientation is its own
    check."""
    r = reading(submission, model, causal)
    if r.verdict != "correct":
        fail("the first layer's attention does not equal softmax(q k^T / sqrt(head_dim)) of its own query and key "
             "projections", r.case, [f"The grader read {r.where}."] if r.where else [], bug=r.verdict,
             repro=r.repro)
    if r.where:
        submission.note(f"the scale was read by behaviour (no query and key weights recognized by name): {r.where}")


def expect_orientation(submission, model, causal):
    """Row i of a map holds query i's scores against every key: q k^T, not its transpose k q^T, whatever the scale.
    Only names tell a query from a key: where the scale was read by behaviour, k q^T is q k^T under other names."""
    r = reading(submission, model, causal)
    if r.where:
        submission.note("no weights are named as queries and keys, so q k^T and k q^T differ only in which "
                        f"projection is called the query: the maps read as q k^T with {r.where}")
        return
    if r.transposed:
        fail("the first layer's attention equals softmax(k q^T) of its own projections: row i holds key i's scores "
             "against every query, the transpose of the attention matrix", r.case, bug=ORIENTATION, repro=r.repro)


def look(model, state, emb, positions, causal, seeds):
    """(verdict or None, where q and k came from or None, whether the named ones are swapped, the maps, the case,
    the repro) of the first layer's maps with embedding rows and token ids drawn from `seeds`."""
    hp, T = roles.HP, roles.HP["block_size"]
    table = normalized_rows(hp["vocab_size"], hp["n_embd"], seeds[0])
    changed = {**state, **{k: table.to(state[k].dtype) for k in emb},
               **{k: torch.zeros_like(state[k]) for k in positions}}
    x = roles.ids(B, T, seeds[1])
    repro = (f"m = {model.call}; m.eval(); {', '.join(emb)} set to rows of mean 0 and variance 1"
             + (f", {positions[0]} set to 0" if positions else "")
             + f"; out, attn_maps = {model.invocation}; attn_maps[0]")
    with about(f"{model.cls} with known embeddings", repro):
        model.obj.load_state_dict(changed)
        try:
            maps, _ = maps_of(model, x, "the scale check")
        finally:
            model.obj.load_state_dict(state)
    got = maps[0]
    xs = inputs(table.double()[x], bool(positions))
    named = first_layer(state, hp["n_embd"], hp["n_head"])
    found = read(got, xs, oriented(named), causal)
    if found:
        verdict, where, transposed = found[0], None, found[1] >= len(named)
    else:
        (verdict, where), transposed = by_behaviour(got, xs, state, {*emb, *positions}, causal), False
    return verdict, where, transposed, got, f"{model.cls} on token ids of shape {tuple(x.shape)}", repro


def unknown_heads(submission, model, got):
    """Why the first layer may not have the grader's n_head heads, or None. A constant main.py passes to a parameter
    that stands for no hyper-parameter may set the heads (or the sizes) its own way; per-head maps show the head
    count; a heads' mean shows nothing, so then the constructor must have been given the grader's n_head."""
    n, main = roles.HP["n_head"], mainpy.conventions(submission)
    signature = roles.handed(submission).names[model.cls]["signature"]
    given = models.main_arguments(main, model.cls, signature)
    constants = [f"{name}={value!r}" for name, (kind, value) in given.items() if kind == "value" and name in
                 model.kwargs and models.stands_for(name, given) is None and name.lower() not in models.CAUSAL]
    if constants:
        return (f"main.py builds {model.cls} with {', '.join(constants)}, which stand for no hyper-parameter the "
                "grader knows and may set the number of heads or their size")
    if got.dim() != 4 or got.shape[1] not in (1, n):
        return f"{model.cls}'s first-layer maps have shape {tuple(got.shape)}: {got.shape[1]} heads, not n_head = {n}"
    config = any(isinstance(v, types.SimpleNamespace) for v in model.kwargs.values()) or model.kwargs == models.HP
    if got.shape[1] == 1 and not config and "n_head" not in {models.stands_for(k, given) for k in model.kwargs}:
        return (f"{model.cls} keeps one map per layer (the heads' mean, or one head) and no parameter of "
                f"{model.call} gives it the grader's n_head = {n}")
    return None


def test_encoder_scale(submission, found):
    expect_scale(submission, model_for(found, "encoder"), causal=False)


def test_decoder_scale(submission, found):
    expect_scale(submission, model_for(found, "decoder"), causal=True)


def test_encoder_scores_orientation(submission, found):
    expect_orientation(submission, model_for(found, "encoder"), causal=False)


def test_decoder_scores_orientation(submission, found):
    expect_orientation(submission, model_for(found, "decoder"), causal=True)
