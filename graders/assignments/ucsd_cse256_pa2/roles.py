"""The student's models as the checks see them: found by what they do (models.py) through the sandbox's proxies,
with the handout's contract checked and every problem turned into an interface error that names what the
grader expected. Each check of a role raises its role's error, so it costs that role's part only. Also the
helpers every check module of PA2 shares (running a model, reading its maps, failing with feedback); nothing
here uses the reference, so the student kit ships it.
"""
import copy
from dataclasses import dataclass, field

import torch

from graders.assignments.ucsd_cse256_pa2.models import (
    HP,
    Unusable,
    classify,
    contract,
    describe,
    find,
    ids,
    layer_maps,
    named_for,
)
from graders.checks.feedback import fail
from graders.problems import InterfaceError, NotGradable, SubmissionProblem, about

__all__ = ["HP", "FILE", "B", "Model", "found", "discover", "run", "ids", "classify", "layer_maps", "fail",
           "model_for", "forward", "maps_of"]
FILE = "transformer.py"
B = 2  # batch rows of every check's input


@dataclass
class Model:
    """A student's model in the sandbox with the role the grader found for it."""
    role: str
    cls: str
    obj: object
    kwargs: dict
    returned: str                     # what model(ids) returned, in words
    maps_found: str | None = None     # how the attention maps came back, in words
    problems: list[str] = field(default_factory=list)  # departures from the handout's contract

    @property
    def call(self):
        return f"{self.cls}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"


def found(submission):
    """({role: Model}, [(class, SubmissionProblem)]), found once per sandbox child (its objects die with it)."""
    session = submission.session
    cached = getattr(submission, "pa2_models", None)
    if cached is None or cached[0] != session.generation:
        source = submission.intake.files[FILE]
        if source.problem:
            raise NotGradable(source.problem)
        names = session.names(submission.spec.source(FILE).module)
        cached = (session.generation, *discover(submission.module(FILE), names, submission.extractions[FILE].classes))
        submission.pa2_models = cached
    return cached[1], cached[2]


def discover(module, names, classes):
    """({role: Model}, [(class, SubmissionProblem)]) for the classes of transformer.py, built in the sandbox."""
    def build(cls, kwargs):
        with about(f"{cls} built with the starter's hyper-parameters"):
            obj = getattr(module, cls)(**kwargs)
            obj.eval()
            return obj

    signatures = [(c, names[c]["signature"]) for c in classes if names.get(c, {}).get("kind") == "class"]
    found, errors = find(signatures, build, run, (SubmissionProblem, Unusable))
    models = {}
    for role, (cls, obj, kwargs, result) in found.items():
        B, T = 2, HP["block_size"]
        maps = classify(result, B, T)[2]
        shown = layer_maps(maps, B, T)
        models[role] = Model(role, cls, obj, kwargs, describe(result), shown and shown[1], contract(role, result, maps))
    return models, [(c, InterfaceError(str(e)) if isinstance(e, Unusable) else e) for c, e in errors]


def run(model, x):
    """model(x) as main.py calls it; a decoder whose forward needs targets gets the next tokens as targets."""
    try:
        return model(x)
    except InterfaceError as e:
        if "could not be called" not in str(e):
            raise
        return model(x, torch.roll(x, -1, 1))


def model_for(found, role):
    """The model playing `role` ('encoder': an encoder or, failing that, the classifier over one), or the
    interface error that explains why there is none."""
    by_role, errors = found
    wanted = ("encoder", "classifier") if role == "encoder" else ("decoder",)
    model = next((by_role[r] for r in wanted if r in by_role), None)
    if model is not None:
        return model
    if errors:  # the error of the class whose name suggests the role, else the first one
        cls, e = ([(c, e) for c, e in errors if any(named_for(r, c) for r in wanted)] or errors)[0]
        raise copy.copy(e)  # a fresh exception per check: pytest and `about` annotate the one they get
    what = "an encoder (a model returning (output, attn_maps))" if role == "encoder" else \
        "a decoder (a model returning next-token logits of shape (B, T, vocab_size))"
    raise InterfaceError(f"{FILE} has no class that builds {what} from the starter's hyper-parameters; "
                         "its model's constructor must take vocab_size (or vocab, n_vocab, ...)")


def forward(model, x, what):
    """(output, maps or None) of the model on x: maps as one (B, h, T, T) float64 tensor per layer."""
    with about(f"{model.cls} on token ids of shape {tuple(x.shape)}", f"m = {model.call}; m.eval(); m(x)"):
        result = run(model.obj, x)
    kind = classify(result, *x.shape)
    if kind is None or (model.role and kind[0] != model.role):  # an ALiBi model may play either role
        raise InterfaceError(f"{model.cls}(...)(x) returned {describe(result)} for {what}, unlike what it "
                             f"returned for ids of shape ({B}, {HP['block_size']}): {model.returned}")
    maps = layer_maps(kind[2], *x.shape)
    return kind[1], maps and [m.double() for m in maps[0]]


def maps_of(model, x, what):
    """The model's attention maps on x, one (B, h, T, T) tensor per layer, and its output."""
    output, maps = forward(model, x, what)
    if maps is None:
        raise InterfaceError(f"{model.cls}(...)(x) returned no attention maps for {what} (a list with one (B, T, T) "
                             f"or (B, h, T, T) tensor per layer); it returned {model.returned}")
    return maps, output
