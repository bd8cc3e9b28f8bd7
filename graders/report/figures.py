"""Figures of results.json's extra_data["figures"], turned into what the templates draw.

Two kinds (checks build them as plain data, so results.json stays JSON and the grader needs no plotting library):
- heatmaps: {"kind": "heatmaps", "title", "caption", "panels": [{"label", "matrix": [[float | None, ...], ...],
  "scale": "difference" (optional)}]}, e.g. the student's and the reference's attention probabilities side by
  side; one colour scale for all value panels, so equal colours mean equal values across them. A difference
  panel (the student's map less the reference's) gets a scale of its own, symmetric around zero on a diverging
  ramp, so that a difference of one cell stands out however small it is next to the values;
- curves: {"kind": "curves", "title", "x_label", "y_label", "series": [{"label", "x": [...], "y": [...]}]},
  learning curves, drawn as inline SVG.
"""
import math

from graders.report import png

HEATMAP_PX = 288                  # a heatmap's longer side: 9 px cells at T = 32, three panels on a page's width
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"]  # Okabe-Ito
COLOUR_BAR = png.data_uri(png.colour_bar())
DIFFERENCE_BAR = png.data_uri(png.colour_bar(ramp=png.DIVERGING))
PLOT = {"width": 520, "height": 300, "left": 64, "right": 16, "top": 14, "bottom": 46}


def prepare(figures):
    """Each figure as a dict for templates/figures.html; a figure of unknown kind becomes a one-line note, so a
    newer grader's results still render."""
    makers = {"heatmaps": heatmaps, "curves": curves}
    return [makers[f["kind"]](f) if f.get("kind") in makers else
            {"kind": "unknown", "title": f.get("title", ""), "note": f"figure of unknown kind {f.get('kind')!r}"}
            for f in figures]


def heatmaps(figure):
    panels = [p for p in figure.get("panels", []) if p.get("matrix") and any(p["matrix"])]
    values = [v for p in panels if not is_difference(p) for row in p["matrix"] for v in row if png.finite(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    drawn, missing = [], False
    for panel in panels:
        matrix = panel["matrix"]
        rows, cols = len(matrix), max(len(row) for row in matrix)
        block = max(1, HEATMAP_PX // max(rows, cols))
        missing |= sum(png.finite(v) for row in matrix for v in row) < rows * cols
        own = None
        if is_difference(panel):
            top = max((abs(v) for row in matrix for v in row if png.finite(v)), default=0.0)
            own = {"lo": -top or 0.0, "hi": top, "bar": DIFFERENCE_BAR}  # not -0.0
            uri = png.data_uri(png.heatmap(matrix, -top, top, block, png.DIVERGING))
        else:
            uri = png.data_uri(png.heatmap(matrix, lo, hi, block))
        drawn.append({"label": panel.get("label", ""), "rows": rows, "cols": cols,
                      "width": cols * block, "height": rows * block, "uri": uri, "scale": own})
    return {"kind": "heatmaps", "title": figure.get("title", ""), "caption": figure.get("caption", ""),
            "panels": drawn, "lo": lo, "hi": hi, "missing": missing, "colour_bar": COLOUR_BAR,
            "missing_colour": "#{:02x}{:02x}{:02x}".format(*png.MISSING)}


def is_difference(panel):
    return panel.get("scale") == "difference"


def ticks(lo, hi, count=5):
    """About `count` round values (1, 2 or 5 times a power of ten apart) between lo and hi."""
    step = 10 ** math.floor(math.log10((hi - lo) / count))
    step *= next(m for m in (1, 2, 5, 10) if (hi - lo) / (step * m) <= count)
    first = math.ceil(lo / step)
    return [k * step for k in range(first, math.floor(hi / step) + 1)]


def _range(values, pad=0.0):
    """min..max widened by `pad` of its span on each side (so lines clear the frame); ±0.5 around a lone value."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi - lo < 1e-12 * max(1.0, abs(lo)):
        return lo - 0.5, hi + 0.5
    return lo - pad * (hi - lo), hi + pad * (hi - lo)


def curves(figure):
    """Polylines in SVG user units; a non-finite point breaks its series into segments."""
    series = figure.get("series", [])
    pairs = [[(x, y) for x, y in zip(s.get("x", []), s.get("y", []), strict=False)] for s in series]
    xs = [x for ps in pairs for x, y in ps if png.finite(x) and png.finite(y)]
    ys = [y for ps in pairs for x, y in ps if png.finite(x) and png.finite(y)]
    (x0, x1), (y0, y1) = _range(xs), _range(ys, pad=0.04)
    w = PLOT["width"] - PLOT["left"] - PLOT["right"]
    h = PLOT["height"] - PLOT["top"] - PLOT["bottom"]

    def sx(x):
        return round(PLOT["left"] + (x - x0) / (x1 - x0) * w, 1)

    def sy(y):
        return round(PLOT["top"] + (y1 - y) / (y1 - y0) * h, 1)

    drawn = []
    for i, (s, ps) in enumerate(zip(series, pairs, strict=True)):
        segments, current = [], []
        for x, y in ps:
            if png.finite(x) and png.finite(y):
                current.append((sx(x), sy(y)))
            elif current:
                segments.append(current)
                current = []
        segments += [current] if current else []
        drawn.append({"label": s.get("label", ""), "colour": PALETTE[i % len(PALETTE)],
                      "lines": [" ".join(f"{x},{y}" for x, y in seg) for seg in segments if len(seg) > 1],
                      "dots": [seg[0] for seg in segments if len(seg) == 1]})
    return {"kind": "curves", "title": figure.get("title", ""), "x_label": figure.get("x_label", ""),
            "y_label": figure.get("y_label", ""), "series": drawn, "plot": PLOT,
            "x_ticks": [(sx(t), f"{t:.4g}") for t in ticks(x0, x1)],
            "y_ticks": [(sy(t), f"{t:.4g}") for t in ticks(y0, y1)]}
