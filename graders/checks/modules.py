"""Student nn.Modules in the sandbox with the reference's weights, and the comparisons the attention checks
share: outputs against the reference (naming the known bug an output matches) and causality.

The grader builds both modules from one config, seeds the reference, and copies its weights into the
student's module through load_state_dict, so any difference comes from the student's forward. The reference side
goes through graders/checks/oracle.py, in plain data, so a student kit can replay it.
"""
import functools
import types
from dataclasses import dataclass

import torch

from graders.checks import oracle
from graders.checks.compare import expect_close, matches, require_tensor
from graders.checks.feedback import Feedback
from graders.problems import CheckFailed, InterfaceError, StudentError, about

DROPOUT_IN_EVAL = ("dropout applied in eval mode: two calls on the same input differ. F.dropout(x, p), whose training "
                   "argument defaults to True, and scaled_dot_product_attention(..., dropout_p=p) drop whatever the "
                   "module's mode; pass training=self.training (dropout_p=p if self.training else 0), or use "
                   "nn.Dropout modules, which model.eval() turns off")


def config(n_embd, n_head, block_size, **extra):
    """What the handouts' GPTConfig holds, as plain data, with their dropout of 0.1: the checks run modules in eval
    mode, where dropout must be off, so outputs stay deterministic and a dropout that ignores the mode shows."""
    return types.SimpleNamespace(n_embd=n_embd, n_head=n_head, block_size=block_size, attn_pdrop=0.1,
                                 resid_pdrop=0.1, **extra)


@dataclass
class Reference:
    """The reference module cls(cfg) drawn from `seed`, known by those alone: its calls go through the oracle."""
    cls: type
    cfg: types.SimpleNamespace
    seed: int

    def __call__(self, x):
        return oracle.forward(self.cls, self.cfg, self.seed, x)

    def state(self, parameters_only=False):
        return oracle.state(self.cls, self.cfg, self.seed, parameters_only)

    def variants(self, bugs, x):
        """{name: output} of the known bugs `bugs` ({name: fn(reference module, x)}) on x."""
        return oracle.variants(bugs, self.cls, self.cfg, self.seed, x)


@dataclass
class Pair:
    """A reference module and the student's copy of it, with the words feedback uses for them."""
    reference: Reference | torch.nn.Module  # called on x for the expected output
    student: object
    call: str           # `SynthesizerAttention(config)` with the config spelled out
    repro: str

    def forward(self, x, what):
        with about(f"{what}, x of shape {tuple(x.shape)}", self.repro):
            return require_tensor(self.student(x), f"{self.call}(x)")

    def seeded(self, x, seeds, what):
        """The student's outputs on x, one call per seed (the sandbox seeds torch before each), in one round trip."""
        with about(f"{what}, x of shape {tuple(x.shape)}", self.repro):
            return [require_tensor(y, f"{self.call}(x)")
                    for y in self.student.draws("__call__", [((x,), s) for s in seeds])]


def pair(module, cls, reference_cls, cfg, seed, parameters_only=False):
    """Build reference_cls(cfg) from `seed` and the student's cls(cfg) with the same weights, both in eval
    mode. With `parameters_only`, buffers the student computes (a RoPE cache) stay the student's own, and the
    reference's key, query and value may go into one fused projection of the student's (fused)."""
    torch.manual_seed(seed)  # what the checks draw next (expect_causal's new future) is the same in a kit
    reference = Reference(reference_cls, cfg, seed)
    state = reference.state(parameters_only)
    shown = ", ".join(f"{k}={v!r}" for k, v in vars(cfg).items())
    call = f"{cls}(config)"
    repro = f"config = GPTConfig({shown}); m = {cls}(config); m.load_state_dict(reference weights); m.eval()"
    with about(f"{cls} with config {shown}", repro):
        student = getattr(module, cls)(cfg)
        fused = parameters_only and Fused.of(cls, state, student.state_dict())
        try:
            if not fused:  # a fused projection is loaded by Fused.ordered
                student.load_state_dict(state, strict=not parameters_only)
        except StudentError as e:
            raise InterfaceError(f"{cls}'s parameters differ from the handout's __init__, so the grader cannot give "
                                 f"it the reference's weights: {e}") from None
        student.eval()
    p = Pair(reference, student, call, repro)
    return fused.ordered(p, state, cfg) if fused else p


@dataclass
class Fused:
    """The student's one projection of shape (3 n_embd, n_embd) (nanoGPT's c_attn) in place of the handout's key,
    query and value: the grader stacks the reference's three into it, in the order the student's forward splits it.
    That order is read off the output: the one of ORDERS under which the module's output on PROBE is closest to the
    reference's (the first on a tie), so that a right module matches and a wrong one is diagnosed in the order it
    most likely uses. Any order is the same attention with the projections named otherwise, so none hides a bug."""
    weight: str      # the student's fused parameter, e.g. c_attn.weight
    bias: str | None

    ROLES = ("query", "key", "value")
    ORDERS = (("query", "key", "value"), ("key", "query", "value"), ("query", "value", "key"),
              ("key", "value", "query"), ("value", "query", "key"), ("value", "key", "query"))
    PROBE = dict(B=2, T=3, seed=0)

    @classmethod
    def of(cls_, cls, state, theirs):
        """The Fused layout of the student's parameters (theirs: its state dict), None when it takes the
        reference's parameters by name, or an InterfaceError naming the parameters that have no place."""
        shapes = {k: tuple(v.shape) for k, v in theirs.items()}
        missing = [k for k, v in state.items() if shapes.get(k) != tuple(v.shape)]
        if not missing:
            return None
        E = state["query.weight"].shape[1]
        weights = [k for k, s in shapes.items() if s == (3 * E, E) and k not in state]
        qkv = {f"{r}.{p}" for r in cls_.ROLES for p in ("weight", "bias")}
        if len(weights) == 1 and set(missing) <= qkv:
            bias = weights[0].removesuffix("weight") + "bias"
            if shapes.get(bias) == (3 * E,) or not any(k.endswith(".bias") for k in missing):
                return cls_(weights[0], bias if shapes.get(bias) == (3 * E,) else None)
        raise InterfaceError(
            f"{cls} keeps no parameter of the handout's name and shape for {', '.join(missing)}, so the grader cannot "
            "give it the reference's weights and compare outputs: it loads them by the handout's names (key, query, "
            f"value, proj), or key, query and value stacked into one fused projection of shape ({3 * E}, {E}) (with "
            f"its bias of shape ({3 * E},)); {cls} has {', '.join(f'{k} {s}' for k, s in shapes.items())}")

    def states(self, state):
        """The reference's parameters with key, query and value stacked into the fused one, for each order."""
        rest = {k: v for k, v in state.items() if k.split(".")[0] not in self.ROLES}
        out = []
        for order in self.ORDERS:
            stacked = {self.weight: torch.cat([state[f"{r}.weight"] for r in order])}
            if self.bias:
                stacked[self.bias] = torch.cat([state[f"{r}.bias"] for r in order])
            out.append({**rest, **stacked})
        return out

    def ordered(self, p, state, cfg):
        """The Pair with the student's module loaded in the order whose output on PROBE is closest to the
        reference's, its repro saying how the weights went in."""
        x, _ = inputs(self.PROBE["B"], min(self.PROBE["T"], cfg.block_size), cfg.n_embd, self.PROBE["seed"])
        with torch.no_grad():
            expected = p.reference(x)
        states, errors = self.states(state), []
        for loaded in states:
            p.student.load_state_dict(loaded, strict=False)
            got = p.forward(x, "the order of the fused projection")
            error = float((got.double() - expected.double()).abs().max()) if got.shape == expected.shape else None
            errors.append(error if error is not None and error == error else float("inf"))  # NaN: no match
        chosen = self.ORDERS[errors.index(min(errors))]
        p.student.load_state_dict(states[self.ORDERS.index(chosen)], strict=False)
        where = f"{self.weight} = cat({', '.join(f'{r}.weight' for r in chosen)})"
        p.repro = p.repro.replace("load_state_dict(reference weights)", f"load_state_dict(reference weights with "
                                  f"{where}{' and the biases alike' if self.bias else ''})")
        return p


def inputs(B, T, n_embd, seed):
    g = torch.Generator().manual_seed(seed)
    line = f"x = torch.randn({B}, {T}, {n_embd}, generator=torch.Generator().manual_seed({seed}))"
    return torch.randn(B, T, n_embd, generator=g), line


def expect_forward(p, x, line, tol, bugs=None, what="forward", confirm=None):
    """The student's output equals the reference's on x; `bugs` is {name: fn(reference_module, x)}, run (all at
    once, by the oracle) only when the output is wrong, and a bug is named only if `confirm(name)` holds too (when
    given). A wrong output that a call seeded otherwise does not repeat is named as dropout left on in eval mode."""
    got = p.forward(x, what)
    outputs = functools.cache(lambda: p.reference.variants(bugs, x))
    variants = [(DROPOUT_IN_EVAL, lambda y: not matches(y, p.seeded(x, [1], what)[0], tol, equal_nan=True))]
    variants += [(name, lambda y, name=name: matches(y, outputs()[name], tol, equal_nan=True)
                  and (confirm is None or confirm(name))) for name in (bugs or {})]
    expect_close(got, p.reference(x), tol, what=f"{p.call}(x)", case=f"x of shape {tuple(x.shape)}; {what}",
                 repro=f"{p.repro}; {line}; m(x)", bugs=variants)


def expect_causal(forward, xs, t, tol, case, repro):
    """Outputs at positions <= t stay the same when only positions after t of the inputs `xs` change, and
    outputs after t do change (so a module that ignores its input does not pass)."""
    changed = [x.clone() for x in xs]
    for x in changed:
        x[:, t + 1:] = torch.randn_like(x[:, t + 1:]) * 3
    before, after = forward(*xs), forward(*changed)
    if before.shape != after.shape or before.dim() != 3:
        raise CheckFailed(Feedback(f"the output has shape {tuple(before.shape)}, expected (B, T, n_embd)", case,
                                   repro=repro))
    if not matches(after[:, :t + 1], before[:, :t + 1], tol, equal_nan=True):
        token = int((~torch.isclose(after[:, :t + 1], before[:, :t + 1], rtol=tol.rtol, atol=tol.atol)
                     ).any(-1).any(0).nonzero()[0])
        raise CheckFailed(Feedback(
            f"the output at position {token} changed when only positions after {t} of the input changed: the "
            "attention sees the future", f"{case}; positions {t + 1}.. replaced", repro=repro))
    if after.shape[1] > t + 1 and torch.equal(after[:, t + 1:], before[:, t + 1:]):
        raise CheckFailed(Feedback(f"the output after position {t} did not change when the input there changed: the "
                                   "module ignores its input", case, repro=repro))
