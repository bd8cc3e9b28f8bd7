"""Call a student's function on seeded inputs and keep what feedback needs to describe the call."""
from dataclasses import dataclass

from graders.checks.compare import expect_close
from graders.checks.inputs import draw
from graders.problems import about


@dataclass
class Probe:
    got: object
    inputs: dict          # name -> the input tensor, in float64, for computing what was expected
    call: str             # `self_attention(Q, K, V, n_heads=2, causal=True)`
    case: str             # `Q, K, V of shape (2, 11, 4), float32, seed 5`
    repro: str            # one line of Python that rebuilds the inputs and makes the call

    def expect(self, expected, tol, bugs=()):
        expect_close(self.got, expected, tol, what=self.call, case=self.case, repro=self.repro, bugs=bugs)


def probe(module, fn, case, shapes, *extra, **kwargs):
    """Draw tensors of `shapes` (name -> shape) from the case's seed; call `module.fn(*tensors, *extra, **kwargs)`."""
    tensors, line = draw(shapes, case.seed, case.dtype)
    return call(module, fn, case, tensors, line, extra, kwargs)


def call(module, fn, case, tensors, line, extra=(), kwargs=None, note=None):
    """Call `module.fn(*tensors.values(), *extra, **kwargs)` on tensors that `line` rebuilds (drawn from the
    case's seed, perhaps then changed); `note` says how they differ from plain draws."""
    kwargs = kwargs or {}
    args = list(tensors) + [repr(e) for e in extra] + [f"{k}={v!r}" for k, v in kwargs.items()]
    text = f"{fn}({', '.join(args)})"
    shaped = ", ".join(f"{n} of shape {tuple(t.shape)}" for n, t in tensors.items())
    described = f"{text} with {shaped}, {case.dtype}, seed {case.seed}" + (f", {note}" if note else "")
    repro = f"{line}; {text}"
    with about(described, repro):
        got = getattr(module, fn)(*tensors.values(), *extra, **kwargs)
    return Probe(got, {n: t.double() for n, t in tensors.items()}, text, described, repro)
