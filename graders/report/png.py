"""Heatmaps as PNG data URIs, drawn with zlib and struct alone: no matplotlib or PIL in the grader, and a few
small matrices per page cost well under a millisecond each, so a batch of hundreds of pages stays fast."""
import base64
import math
import struct
import zlib

# Viridis sampled at 9 evenly spaced points: perceptually uniform, readable in grey and by most colour-blind
# readers. Colours between the stops are interpolated linearly.
RAMP = [(68, 1, 84), (71, 45, 123), (59, 82, 139), (44, 114, 142), (33, 145, 140), (40, 174, 128),
        (94, 201, 98), (173, 220, 48), (253, 231, 37)]
# ColorBrewer's RdBu, blue (below zero) through near-white (zero) to red: for differences, where the sign and
# the distance from zero are what matter; blue and red stay apart for the common colour blindnesses.
DIVERGING = [(33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240), (247, 247, 247), (253, 219, 199),
             (244, 165, 130), (214, 96, 77), (178, 24, 43)]
MISSING = (190, 190, 190)  # on neither ramp: a None or non-finite cell can't pass for a value


def colour(t, ramp=RAMP):
    """The ramp's colour at t in [0, 1]."""
    t = min(max(t, 0.0), 1.0) * (len(ramp) - 1)
    i = min(int(t), len(ramp) - 2)
    f = t - i
    return tuple(round(a + (b - a) * f) for a, b in zip(ramp[i], ramp[i + 1], strict=True))


def finite(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def encode(scanlines, width):
    """An 8-bit RGB PNG from scanlines of width * 3 bytes each."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, len(scanlines), 8, 2, 0, 0, 0)  # 8 bits, RGB, no interlace
    raw = b"".join(b"\x00" + line for line in scanlines)  # filter type 0 (None) on every line
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b""))


def data_uri(png):
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def heatmap(matrix, lo, hi, block, ramp=RAMP):
    """A PNG of `matrix` (rows of numbers; None or non-finite cells drawn in MISSING), each cell a block x block
    square, coloured on the scale lo..hi of `ramp`. Ragged rows are padded with missing cells."""
    cols = max(len(row) for row in matrix)
    span = hi - lo
    scanlines = []
    for row in matrix:
        cells = [colour((v - lo) / span if span else 0.5, ramp) if finite(v) else MISSING
                 for v in list(row) + [None] * (cols - len(row))]
        line = b"".join(bytes(c) * block for c in cells)
        scanlines += [line] * block
    return encode(scanlines, cols * block)


def colour_bar(width=128, ramp=RAMP):
    """The ramp from left (low) to right (high), one pixel high: the page stretches it."""
    return encode([b"".join(bytes(colour(x / (width - 1), ramp)) for x in range(width))], width)
