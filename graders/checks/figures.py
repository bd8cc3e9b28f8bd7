"""Attention maps for the report, as plain data (graders/report/figures.py draws them): the student's map, the
reference's and a difference panel, so that a wrong mask or scale shows at a glance, even one cell off."""
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
