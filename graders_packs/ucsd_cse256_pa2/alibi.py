"""Part 3's ALiBi check: with every token the same, the first layer's maps show the heads' slopes, compared with the
reference's alibi_slopes (a student kit replays those: they depend only on the number of heads)."""
import torch

from graders.problems import InterfaceError, NotChecked, about
from graders_packs.ucsd_cse256_pa2 import mainpy, models, roles
from graders_packs.ucsd_cse256_pa2.reference import alibi_slopes
from graders_packs.ucsd_cse256_pa2.roles import ATOL, B, fail, maps_of

__all__ = ["test_alibi_slopes"]
SLOPE_TOL = 1e-3  # differences of float32 log-probabilities, ~1e-6 each


def alibi_model(submission):
    """Part 3's ALiBi model, built with ALiBi on (a class named for it, or one with an alibi flag), or None."""
    handed, main = roles.handed(submission), mainpy.conventions(submission)
    names, module = handed.names, handed.module
    for cls in handed.classes:
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
        plan = models.forward_plans(models.forward_parameters(handed.texts, [cls])[cls],
                                    (main or {}).get("masks", {}).get(cls), decoder=causal)[0]
        return roles.Model(None, cls, obj, kwargs, "", plan=plan)
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
        missing = "no ALiBi model found (a class named for ALiBi or taking use_alibi / alibi)"
        if submission.spec.options["alibi_required"]:
            raise NotChecked(f"could not be checked: {missing}, and the grader cannot tell ALiBi built into another "
                             "class from an exploration without it; course staff decide this check")
        submission.note(f"ALiBi was not checked: {missing}, and this offering's part 3 is an open exploration "
                        "(the spec's options.alibi_required is false)")
        return
    state = model.obj.state_dict()
    positions = {k: torch.zeros_like(v) for k, v in state.items() if v.dim() == 2 and v.shape[0] == roles.HP[
        "block_size"] and any(w in k.lower() for w in ("pos", "wpe"))}
    T, n = roles.HP["block_size"], roles.HP["n_head"]
    x = torch.full((B, T), 5)
    with about(f"{model.cls} on a sequence of one repeated token", f"m = {model.call}; m.eval(); {model.invocation}"):
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
         repro=f"m = {model.call}; m.eval(); x = torch.full(({B}, {T}), 5); logits, attn_maps = {model.invocation}; "
               "attn_maps[0][0]")
