"""Compare a student's tensor with the expected one; on a mismatch, say where and name the bug it matches.

Only exact torch.Tensor objects that came through the wire decoder reach here, so no subclass can lie.
Comparison is |got - expected| <= atol + rtol * |expected|, in float64, with infinities equal only to
themselves, using the tolerance of the input's dtype.
"""
import torch

from graders.checks.feedback import Feedback
from graders.problems import CheckFailed, InterfaceError


def require_tensor(value, what):
    if type(value) is not torch.Tensor:
        kind = getattr(value, "type_name", type(value).__name__)  # a wire.Foreign carries the child's type name
        raise InterfaceError(f"{what} returned {'None' if value is None else 'a ' + kind}, expected a torch.Tensor")
    return value


def close(got, expected, tol, equal_nan=False):
    """Elementwise closeness; infinities must sit exactly where expected has them.

    NaN never passes against a reference, but `equal_nan` lets a NaN match a NaN where the student's
    output is compared with itself (properties) or with a known bug that produces NaN too.
    """
    got, expected = got.double(), expected.double()
    finite = torch.isfinite(expected)
    ok = torch.where(finite, (got - expected).abs() <= tol.atol + tol.rtol * expected.abs(), got == expected)
    both_nan = torch.isnan(got) & torch.isnan(expected)
    return (ok & ~torch.isnan(got)) | (both_nan if equal_nan else torch.zeros_like(ok))


def matches(got, expected, tol, equal_nan=False):
    return got.shape == expected.shape and bool(close(got, expected, tol, equal_nan).all())


def expect_close(got, expected, tol, *, what, case=None, repro=None, bugs=()):
    """Fail with feedback unless `got` is a floating tensor of expected's shape and values.

    `bugs` is a sequence of (name, fn) pairs; `fn(got)` returns what that known bug outputs on this input
    (a tensor to compare with) or a verdict (a bool). The first bug that matches is named in the feedback.
    """
    got = require_tensor(got, what)
    details = []
    if got.shape != expected.shape:
        summary = f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    elif got.dtype.is_floating_point != expected.dtype.is_floating_point:
        summary = f"{what} has dtype {got.dtype}, expected a floating-point tensor"
    else:
        ok = close(got, expected, tol)
        if bool(ok.all()):
            return
        if got.dtype in (torch.float16, torch.bfloat16):
            details.append(f"{what} returned {got.dtype}, which cannot hold the input's precision; keep its dtype")
        bad = (~ok).nonzero()
        pos = tuple(bad[0].tolist())
        summary = f"{what} is wrong at {len(bad)} of {ok.numel()} positions"
        details += [f"First difference at index {list(pos)}: expected {expected[pos].item():.6g}, "
                   f"got {got[pos].item():.6g}"]
        finite = ~ok & torch.isfinite(expected) & torch.isfinite(got)
        if finite.any():
            err = (got.double() - expected.double()).abs()[finite].max().item()
            details.append(f"Max abs error: {err:.3g} (tolerance: atol {tol.atol:g}, rtol {tol.rtol:g})")
        special = int((~ok & ~finite).sum())
        if special:
            details.append(f"{special} of the wrong positions involve -inf, inf or NaN")
    raise CheckFailed(Feedback(summary, case, details, diagnose(got, bugs, tol), repro))


def diagnose(got, bugs, tol):
    """The name of the first known bug whose output `got` matches, or None; `bugs` as for expect_close."""
    return next((name for name, fn in bugs if _matches_bug(got, fn, tol)), None)


def _matches_bug(got, fn, tol):
    """A variant that cannot run on this input is not the bug; nor is one a student kit has no recording of
    (graders.problems.NotRecorded is a LookupError)."""
    try:
        value = fn(got)
        return value if isinstance(value, bool) else matches(got, value, tol, equal_nan=True)
    except (RuntimeError, ValueError, LookupError):
        return False
