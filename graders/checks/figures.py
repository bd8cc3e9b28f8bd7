"""Attention maps for the report, as plain data (graders/report/figures.py draws them): the student's map, the
reference's and a difference panel, so that a wrong mask or scale shows at a glance, even one cell off."""
import types

import torch


def matrix(t: torch.Tensor) -> list[list[float | None]]:
    """Rows of floats rounded to 5 places; NaN and infinities become None (drawn as missing)."""
    return [[round(v, 5) if v == v and abs(v) != float("inf") else None for v in row] for row in t.tolist()]


def attention_maps(title: str, caption: str, got: torch.Tensor | None, expected: torch.Tensor,
                   same_weights: bool) -> dict:
    """A heatmaps figure of the student's T x T map `got` (None when their code could not draw it; `caption` then
    says why), the reference's `expected` and what tells them apart. With `same_weights` both maps come from the
    same inputs and weights, and the difference is got - expected; with weights of its own the reference's
    numbers do not compare, only its pattern, and the difference is the attention `got` gives to the cells the
    reference masks (a later token, padding)."""
    panels = [{"label": "your code", "matrix": matrix(got.double())}] if got is not None else []
    panels.append({"label": "reference", "matrix": matrix(expected.double())})
    if got is not None and got.shape == expected.shape:
        difference = got.double() - expected.double() if same_weights else torch.where(
            expected == 0, got.double(), torch.zeros((), dtype=torch.float64))
        panels.append({"label": "your code − reference" if same_weights else "yours where the reference masks",
                       "matrix": matrix(difference), "scale": "difference"})
    return {"kind": "heatmaps", "title": title, "caption": caption, "panels": panels}


# Reading a module's attention map through its output, for modules that return only their output (the CS224N and
# hw5 attention): the values are the keys' one-hot positions and the output projection is the identity, so the
# output at position t holds row t of every head's map. Student and reference get the same weights, so their maps
# compare cell by cell.
READ_THROUGH_OUTPUT = ("Both modules get the same weights, random but for the values (the keys' one-hot positions) "
                       "and the output projection (the identity), so output t holds row t of each head's map. "
                       "Rows are queries, columns keys. The third panel is your map less the reference's: white "
                       "where they agree.")


def positions_input(T: int, E: int, seed: int) -> torch.Tensor:
    """(1, T, E): random features, with the token's one-hot position in the last T features."""
    x = torch.randn(1, T, E, generator=torch.Generator().manual_seed(seed))
    x[0, :, E - T:] = torch.eye(T)
    return x


def positions_as_values(E: int, n_head: int, T: int) -> torch.Tensor:
    """The (E, E) value weight that copies x's one-hot position into the first T features of every head."""
    w, hs = torch.zeros(E, E), E // n_head
    for h in range(n_head):
        w[h * hs:h * hs + T, E - T:] = torch.eye(T)
    return w


def maps_in_output(y, n_head: int, rows: int, T: int) -> torch.Tensor:
    """(n_head, rows, T) maps from the output (1, rows, E) of a module weighted as positions_as_values says."""
    if not isinstance(y, torch.Tensor) or y.dim() != 3 or y.shape[:2] != (1, rows) or y.shape[2] % n_head:
        shape = f" of shape {tuple(y.shape)}" if isinstance(y, torch.Tensor) else ""
        raise ValueError(f"the module returned {type(y).__name__}{shape}, not the output of shape (1, {rows}, "
                         "n_embd) the map is read from")
    return y[0].double().view(rows, n_head, -1)[:, :, :T].transpose(0, 1)


def maps_read_through_output(what: str, reference: torch.nn.Module, build, n_head: int, T: int, E: int,
                             seed: int = 0, queries: int = 0, caption: str = READ_THROUGH_OUTPUT) -> list[dict]:
    """Heatmaps figures, one per head, of the student's module (`build()` makes it in the sandbox) and the
    reference, both with the reference's parameters, which the caller has set as positions_as_values says.
    With `queries`, a cross-attention's map: module(x, q) with that many random query tokens q."""
    from graders.checks.modules import Fused, Pair
    from graders.problems import SubmissionProblem

    x = positions_input(T, E, seed)
    inputs = (x, torch.randn(1, queries, E, generator=torch.Generator().manual_seed(seed + 1))) if queries else (x,)
    rows = queries or T
    state = {k: v.detach().clone() for k, v in reference.named_parameters()}
    with torch.no_grad():
        expected = maps_in_output(reference.eval()(*inputs), n_head, rows, T)
    got, why = None, None
    try:
        student = build()
        theirs = student.state_dict()
        if not isinstance(theirs, dict):
            raise ValueError(f"its state_dict() returned {type(theirs).__name__}, not a dict")
        fused = "query.weight" in state and not queries and Fused.of(what, state, theirs)
        missing = sorted(set(state) - set(theirs))
        if fused:  # q, k and v in one projection, in the order its output says (graders/checks/modules.py)
            fused.ordered(Pair(reference, student, what, ""), state, types.SimpleNamespace(n_embd=E, block_size=T))
        elif missing:
            raise ValueError(f"it keeps no parameter named {', '.join(missing)}, so the grader cannot give it the "
                             "reference's weights")
        else:
            student.load_state_dict(state, strict=False)
        student.eval()
        got = maps_in_output(student(*inputs), n_head, rows, T)
    except (SubmissionProblem, ValueError) as e:
        why = f"Your code could not draw this map: {e}"
    return [attention_maps(f"{what}, head {h + 1} of {n_head}", why or caption,
                           None if got is None else got[h], expected[h], same_weights=True) for h in range(n_head)]
