"""The checks that need the reference's attention: the scale, from the first layer rebuilt with the student's own
weights, and part 3's ALiBi slopes.

The grader reads the model's state_dict, gives the token embedding rows of zero mean and unit variance (so
a pre-LN block's LayerNorm, at its initial weights, leaves them as they are) and zeroes a learned position
embedding, so the first attention layer sees known inputs. Its query and key projections are found by their
usual names (query/key, q_proj/k_proj, W_q/W_k, fused qkv or c_attn). The student's first-layer maps are then
compared with softmax(q k^T / s) under every reading of those weights that the student's code may use, for
the correct scale and the known bugs.
"""
import math
import re

import torch
from torch.nn import functional as F

from graders.assignments.ucsd_cse256_pa2 import mainpy, models, roles
from graders.assignments.ucsd_cse256_pa2.roles import B, fail, maps_of, model_for
from graders.problems import InterfaceError, about
from reference.ucsd_cse256_pa2 import alibi_slopes, attention_probs

__all__ = ["test_encoder_scale", "test_decoder_scale", "test_alibi_slopes"]
KIT = "withheld"  # rebuilds attention with the reference's: the student kit leaves these checks to the autograder
SLOPE_TOL = 1e-3  # differences of float32 log-probabilities, ~1e-6 each

SUFFIX = r"(_?(proj|linear|lin|layer|net|mat|w|weight|fc))?$"
QUERY = re.compile(r"^(w_?)?q(uer(y|ies))?" + SUFFIX + r"|^(to|proj|linear|lin)_q(uery)?$")
KEY = re.compile(r"^(w_?)?k(eys?)?" + SUFFIX + r"|^(to|proj|linear|lin)_k(ey)?$")
FUSED = re.compile(r"qkv|c_attn|in_proj")
ATOL = 2e-4  # float32 maps from two computations of the same logits (the LayerNorm's eps moves them ~1e-5)


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
                ("scores not scaled (1/sqrt(head_dim) missing)", attention_probs(q * math.sqrt(hd), k, causal)),
                ("k q^T instead of q k^T: the attention matrix is transposed", attention_probs(k, q, causal))]
    return out


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


def expect_scale(submission, model, causal):
    """The first layer's maps equal softmax(q k^T / sqrt(head_dim)) of the student's own projections."""
    hp, T = roles.HP, roles.HP["block_size"]
    state = model.obj.state_dict()
    emb = [k for k, v in state.items() if v.shape == (hp["vocab_size"], hp["n_embd"])]
    emb = sorted(emb, key=lambda k: not any(w in k.lower() for w in ("emb", "tok", "wte")))
    # (block_size, n_embd) is also the shape of a head's projection with the handout's sizes: go by name too
    positions = [k for k, v in state.items() if v.shape == (T, hp["n_embd"]) and role_of(k) is None
                 and any(w in k.lower() for w in ("pos", "wpe", "emb"))]
    readings = first_layer(state, hp["n_embd"], hp["n_head"])
    if not emb or not readings:
        submission.note("the scale was not checked: the grader did not recognize the token embedding or the first "
                        "layer's query and key weights by name")
        return
    table = normalized_rows(hp["vocab_size"], hp["n_embd"], 3)
    changed = {**state, emb[0]: table.to(state[emb[0]].dtype), **{k: torch.zeros_like(state[k]) for k in positions}}
    x = roles.ids(B, T, 4)
    repro = (f"m = {model.call}; m.eval(); the token embedding {emb[0]} set to rows of mean 0 and variance 1"
             + (f", {positions[0]} set to 0" if positions else "") + "; out, attn_maps = m(x); attn_maps[0]")
    with about(f"{model.cls} with known embeddings", repro):
        model.obj.load_state_dict(changed)
        try:
            maps, _ = maps_of(model, x, "the scale check")
        finally:
            model.obj.load_state_dict(state)
    got, case = maps[0], f"{model.cls} on token ids of shape {tuple(x.shape)}"
    summary = "the first layer's attention does not equal softmax(q k^T / sqrt(head_dim)) of its own query and key " \
              "projections"
    xs = inputs(table.double()[x], bool(positions))
    for x_ in xs:
        for name, expected in variants(x_, readings, causal):
            expected = like(expected, got)
            if got.shape == expected.shape and torch.allclose(got, expected, atol=ATOL, rtol=0):
                if name != "correct":
                    fail(summary, case, bug=name, repro=repro)
                return
    for x_ in xs:  # a scale none of the known bugs has: found by fitting it
        for q, k in projections(x_[:got.shape[0]], readings):
            s = fitted_divisor(got, q, k, causal)
            if s is not None:
                fail(summary, case, bug=divided_by(s, q.shape[-1], q.shape[-1] * q.shape[1]), repro=repro)
    submission.note("the scale was not checked: the first layer's maps match no reading of the weights the grader "
                    "found by name")


def test_encoder_scale(submission, found):
    expect_scale(submission, model_for(found, "encoder"), causal=False)


def test_decoder_scale(submission, found):
    expect_scale(submission, model_for(found, "decoder"), causal=True)


def alibi_model(submission):
    """Part 3's ALiBi model, built with ALiBi on (a class named for it, or one with an alibi flag), or None."""
    names = submission.session.names(submission.spec.source(roles.FILE).module)
    module, main = submission.module(roles.FILE), mainpy.conventions(submission)
    for cls in submission.extractions[roles.FILE].classes:
        signature = names.get(cls, {}).get("signature")
        params = [n for n, _ in models.parameters(signature) or []] if signature else []
        flags = [n for n in params if n.lower() in models.ALIBI]
        if names.get(cls, {}).get("kind") != "class" or not models.takes_vocabulary(signature, cls, main) or not (
                flags or "alibi" in cls.lower()):
            continue
        causal = any(n.lower() in models.CAUSAL for n in params)
        try:
            kwargs = {**models.constructor_kwargs(cls, signature, causal, main=main), **{f: True for f in flags}}
        except models.Unusable as e:
            raise InterfaceError(str(e)) from None
        with about(f"{cls} built with ALiBi on"):
            obj = getattr(module, cls)(**kwargs)
            obj.eval()
        return roles.Model(None, cls, obj, kwargs, "")
    return None


def alibi_mean_map(T, slopes, causal):
    """(T, T): the heads' mean attention over identical tokens, where only ALiBi's bias -slope_h * |i - j| tells
    keys apart."""
    pos = torch.arange(T, dtype=torch.float64)
    scores = -torch.tensor(slopes, dtype=torch.float64)[:, None, None] * (pos[None, :] - pos[:, None]).abs()
    if causal:
        scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return scores.softmax(-1).mean(0)


def slopes_of(maps):
    """Each head's ALiBi slope read off its map over identical tokens: log p[i, j+1] - log p[i, j] for earlier
    keys j + 1 < i, whatever the row's normalizer; None for a head whose steps are not all equal (no linear bias)."""
    T = maps.shape[-1]
    steps = maps.log().diff(dim=-1)[:, torch.ones(T, T - 1, dtype=torch.bool).tril(-2)]
    return [float(s.median()) if (s - s.median()).abs().max() <= SLOPE_TOL else None for s in steps]


def test_alibi_slopes(submission):
    """With every token the same (and learned positions, if any, zeroed), the first layer's scores differ only by
    ALiBi's bias, so its maps show the slopes: 2^(-8/n), 2^(-16/n), ... for n heads."""
    model = alibi_model(submission)
    if model is None:
        submission.note("no ALiBi model found (a class named for ALiBi or taking use_alibi / alibi): not checked")
        return
    state = model.obj.state_dict()
    positions = {k: torch.zeros_like(v) for k, v in state.items() if v.dim() == 2 and v.shape[0] == roles.HP[
        "block_size"] and any(w in k.lower() for w in ("pos", "wpe"))}
    T, n = roles.HP["block_size"], roles.HP["n_head"]
    x = torch.full((B, T), 5)
    with about(f"{model.cls} on a sequence of one repeated token", f"m = {model.call}; m.eval(); m(x)"):
        model.obj.load_state_dict({**state, **positions})
        maps, _ = maps_of(model, x, "the ALiBi check")
    got, right = maps[0][0], alibi_slopes(n)
    bugs = {"slopes 2^-1, 2^-2, ... (not scaled by 8/n_head)": [2.0 ** -(h + 1) for h in range(n)],
            "slopes in reverse head order": right[::-1],
            "the bias has the wrong sign: it rewards distance": [-m for m in right],
            "no ALiBi bias in the first layer's scores": [0.0] * n}
    if got.shape[0] == 1:  # one map per layer, the heads' mean: compared whole
        causal = not got.triu(1).any()
        found = next((name for name, slopes in {"correct": right, **bugs}.items() if torch.allclose(
            got[0], alibi_mean_map(T, slopes, causal), atol=ATOL, rtol=0)), None)
        shown = "the heads' mean map"
    else:
        slopes = slopes_of(got)
        found = next((name for name, m in {"correct": right, **bugs}.items() if None not in slopes
                      and all(abs(a - b) <= SLOPE_TOL for a, b in zip(slopes, m, strict=True))), None)
        shown = f"slopes {['not linear' if m is None else f'{m:.4g}' for m in slopes]}"
    if found == "correct":
        submission.note(f"checked {model.call}: slopes {[f'{m:.4g}' for m in right]}")
        return
    fail(f"the first layer's attention over identical tokens shows {shown}, not ALiBi's slopes "
         f"{[f'{m:.4g}' for m in right]}",
         f"{model.cls} on token ids of shape {tuple(x.shape)}, all the same token", bug=found,
         repro=f"m = {model.call}; m.eval(); x = torch.full(({B}, {T}), 5); logits, attn_maps = m(x); "
               "attn_maps[0][0]")
