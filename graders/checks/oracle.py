"""The reference side of the module checks, as calls whose arguments and results are plain data.

A check that compares a student's nn.Module with the reference's (graders/checks/modules.py) asks here for the
reference's weights, its output and its known bugs' outputs, naming the reference class, the config and the seed
instead of holding a reference module. So a student kit can answer the same calls from a recording
(graders/record.py keeps every call's result when the kit is built, graders/replay.py's stand-in replays them) and
ship the check without the reference's code: the kit knows the class by its name only.
"""
import torch

KIT = "recorded"


def _build(cls, cfg, seed):
    """The reference module cls(cfg) in eval mode with its parameters drawn from U(-0.5, 0.5) after `seed` (the
    handouts' inits hide bugs: a bias starting at 0, a weight near 0); the caller's torch generator is left alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = cls(cfg).eval()
        with torch.no_grad():
            for weight in module.parameters():
                weight.uniform_(-0.5, 0.5)
    return module


def state(cls, cfg, seed, parameters_only=False):
    """The weights the grader gives the student's module: the parameters, and the buffers unless
    `parameters_only` (a buffer the student computes, such as a RoPE cache, stays the student's)."""
    module = _build(cls, cfg, seed)
    found = dict(module.named_parameters()) if parameters_only else module.state_dict()
    return {k: v.detach().clone() for k, v in found.items()}


def forward(cls, cfg, seed, x):
    """The reference module's output on x."""
    with torch.no_grad():
        return _build(cls, cfg, seed)(x)


def variants(bugs, cls, cfg, seed, x):
    """{bug name: what that known bug outputs on x}, for `bugs` = {name: fn(reference module, x)}; a variant that
    cannot run on this input is left out. All at once, so a kit recorded on one bug's sample can name any other."""
    module, found = _build(cls, cfg, seed), {}
    for name, fn in bugs.items():
        try:
            with torch.no_grad():
                found[name] = getattr(fn, "real", fn)(module, x)  # while recording, fn is the recorder's proxy
        except (RuntimeError, ValueError, LookupError):  # as graders/checks/compare.py's diagnose
            continue
    return found
