"""The student's models as the checks see them: found by what they do (models.py) through the sandbox's proxies,
and by what the student's main.py says of them when it is handed in (mainpy.py), with the handout's contract
checked and every problem turned into an interface error that names what the grader expected. Each check of a
role raises its role's error, so it costs that role's part only. Also the helpers every check module of PA2
shares (running a model, reading its maps, failing with feedback); nothing here uses the reference, so the
student kit ships it.
"""
import copy
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from graders.checks.feedback import fail
from graders.checks.sizes import Dims
from graders.problems import InterfaceError, NotGradable, SignatureMismatch, SubmissionProblem, about
from graders_packs.ucsd_cse256_pa2 import mainpy
from graders_packs.ucsd_cse256_pa2.models import (
    HP,
    B,
    Contradiction,
    Unusable,
    classify,
    contract,
    describe,
    described,
    find,
    forward_kwargs,
    forward_parameters,
    ids,
    layer_maps,
    named_for,
    set_globals,
)

__all__ = ["HP", "FILE", "B", "Model", "Found", "found", "discover", "run", "ids", "classify", "layer_maps", "fail",
           "model_for", "forward", "maps_of"]
FILE = "transformer.py"
ATOL = 2e-4  # float32 maps from two computations of the same logits (the LayerNorm's eps moves them ~1e-5)
# The checks' sizes. The grader builds models with the starter main.py's n_embd 64, n_head 2 and block_size 32
# (students hard-code them), which force head_dim = block_size = 32 and T = 32 at full length: the maps (B, h, T, T)
# hold no head_dim axis, and attention.py tells a head's (head_dim, n_embd) projection from the (block_size, n_embd)
# position table by name.
DIMS = Dims(B=B, n_head=HP["n_head"], T=HP["block_size"], head_dim=HP["n_embd"] // HP["n_head"],
            block_size=HP["block_size"], vocab=HP["vocab_size"], forced=("T", "head_dim", "block_size"))


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
    source: str | None = None         # main.py's call that builds the class, when main.py builds it
    notes: list[str] = field(default_factory=list)     # what main.py says of it, for the interface check
    plan: dict | None = None          # how its forward is called besides the ids (models.forward_plans)

    @property
    def call(self):
        return f"{self.cls}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"

    @property
    def invocation(self):
        """The forward call in words: m(x), or m(x, mask=..., return_attention=True)."""
        extra = described(self.plan)
        return f"m(x, {extra})" if extra else "m(x)"

    @property
    def built(self):
        """How the grader built the model, in words: as main.py does, when main.py builds its class."""
        return f"built as main.py does (`{self.source}`): {self.call}" if self.source else f"built as {self.call}"


class Found(NamedTuple):
    """What the checks grade: the models found, the classes that could not be used, and main.py's reading."""
    models: dict            # {role: Model}
    errors: list            # [(class, SubmissionProblem)]
    main: dict | None       # main.py's reading (mainpy.py), None without one
    looked: dict = {}       # {file: [its classes]}: where the grader looked, for the message when nothing fits


class Handed(NamedTuple):
    """The classes of every Python file handed in, as one module: `module.Cls` runs in the sandbox module that
    defines Cls (transformer.py's first, on a name two files define)."""
    module: object
    names: dict             # {name: the sandbox's {"kind", "signature"}}
    classes: list           # class names, transformer.py's first
    files: dict             # {class or helper: the file that defines it}
    texts: list             # every file's code cells, transformer.py's last (its definitions win on a clash)
    looked: dict            # {file: the classes it defines}


def handed(submission):
    """Handed: transformer.py (or the file found for it) and the hand-in's other Python files (graders/others.py),
    read once per sandbox child."""
    return submission.memo("pa2 handed", lambda: read_handed(submission))


def read_handed(submission):
    """Handed, read now (handed() keeps it for the sandbox child)."""
    spec_module = submission.spec.source(FILE).module
    files = [(submission.source(FILE), spec_module, submission.module(FILE), submission.extraction(FILE))]
    files += [(o.source, o.module, module, o.extraction) for o, module in submission.other_modules(FILE)]
    owners, names, classes, texts, looked = {}, {}, [], [], {}
    for source, module_name, module, extraction in files:
        looked[source.name] = extraction.classes
        defined = submission.defined(module_name) if source.problem is None else {}
        own = extraction.classes + (list(extraction.setters) if module_name == spec_module else [])
        for name in own:
            if name not in owners and name in defined:
                owners[name], names[name] = (module, source.name), defined[name]
        classes += [c for c in extraction.classes if owners.get(c, (None, None))[1] == source.name]
        texts = [c.text for c in source.cells] + texts
    return Handed(Owners({n: m for n, (m, _) in owners.items()}), names, classes,
                  {n: f for n, (_, f) in owners.items()}, texts, looked)


class Owners:
    """Names looked up in the sandbox module that defines each."""

    def __init__(self, owners):
        self._owners = owners

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._owners:
            raise AttributeError(name)
        return getattr(self._owners[name], name)


def found(submission):
    """The models of the hand-in (Found), found once per sandbox child (its objects die with it)."""
    source = submission.source(FILE)
    if source.problem:
        raise NotGradable(source.problem)

    def discovered():
        h = handed(submission)
        return discover(h.module, h.names, h.classes, mainpy.conventions(submission), forward_parameters(h.texts,
                        h.classes), mainpy.job_args(submission)["module"], h.files, h.looked)
    return submission.memo("pa2 models", discovered)


def discover(module, names, classes, main=None, forwards=None, module_facts=None, files=None, looked=None):
    """Found: the classes of transformer.py and the hand-in's other files built in the sandbox, as main.py (main: its
    reading) builds them when it does, called as their forwards' parameters (forwards: models.forward_parameters)
    ask, after the helpers that set hyper-parameter globals (module_facts: models.module_globals), and given their
    roles; `files` ({class: file}) names where a class outside transformer.py was found."""
    facts = module_facts or {"setters": [], "models": []}

    def setter(name, kwargs):
        with about(f"{name}, the helper that sets transformer.py's hyper-parameters, called with the grader's"):
            getattr(module, name)(**kwargs)

    failed = set_globals(facts["setters"], {n: v["signature"] for n, v in names.items()}, setter,
                         (SubmissionProblem, Unusable), main=main)
    set_by = [f for f in facts["setters"] if f not in {name for name, _ in failed}]
    calls = (main or {}).get("calls", {})

    def build(cls, kwargs):
        with about(f"{cls} built as main.py does" if cls in calls else f"{cls} built with the starter's "
                   "hyper-parameters"):
            obj = getattr(module, cls)(**kwargs)
            obj.eval()
            return obj

    signatures = [(c, names[c]["signature"]) for c in classes if names.get(c, {}).get("kind") == "class"]
    found, errors = find(signatures, build, run, (SubmissionProblem, Unusable), main=main, forwards=forwards,
                         global_models=facts["models"])
    errors = failed + errors
    said = (main or {}).get("roles", {})
    models = {}
    for role, (cls, obj, kwargs, result, plan) in found.items():
        T = HP["block_size"]
        maps = classify(result, B, T)[2]
        shown = layer_maps(maps, B, T)
        notes = [f"main.py uses it as the {role}: {said[role][1]}"] if said.get(role, [None])[0] == cls else []
        notes += [main["unread"]] if "unread" in (main or {}) else []
        helpers = ", ".join(f"{f}(...)" for f in set_by)
        notes += [f"transformer.py's hyper-parameter globals were set first by {helpers} with the grader's "
                  "values"] if set_by and cls in facts["models"] else []
        notes += [f"its forward is called as {described(plan)}"] if described(plan) else []
        notes += [f"{cls} is defined in {files[cls]}"] if (files or {}).get(cls, FILE) != FILE else []
        models[role] = Model(role, cls, obj, kwargs, describe(result), shown and shown[1], contract(role, result, maps),
                             calls.get(cls, {}).get("text"), notes, plan)
    overruled(models, errors, main)
    return Found(models, [(c, InterfaceError(str(e)) if isinstance(e, Unusable) else e) for c, e in errors], main,
                 looked or {FILE: list(classes)})


def overruled(models, errors, main):
    """Note main.py's word that what a class returns overruled on the model its role's checks grade instead (when
    there is none, model_for raises the Contradiction itself)."""
    for _, e in errors:
        if isinstance(e, Contradiction):
            graded = next((models[r] for r in wanted(e.role, main) if r in models), None)
            if graded:
                graded.notes.append(f"{e}; graded {graded.cls}, which returned {graded.returned}")


def run(model, x, plan=None):
    """model(x) as main.py calls it, with the mask and flags of its forward plan (models.forward_plans); a decoder
    whose forward needs targets gets the next tokens as targets."""
    kwargs = forward_kwargs(plan, x)
    try:
        return model(x, **kwargs)
    except SignatureMismatch:
        return model(x, torch.roll(x, -1, 1), **kwargs)


def wanted(role, main):
    """The roles whose model the checks of `role` grade, best first: the decoder; for the encoder's checks an
    encoder, else the classifier over one, unless main.py uses a classifier and names no encoder."""
    if role == "decoder":
        return ("decoder",)
    said = (main or {}).get("roles", {})
    return ("classifier", "encoder") if "classifier" in said and "encoder" not in said else ("encoder", "classifier")


def model_for(found, role):
    """The model playing `role` ('encoder': an encoder or the classifier over one), or the interface error that
    explains why there is none."""
    roles = wanted(role, found.main)
    candidates = [found.models[r] for r in roles if r in found.models]
    # the classifier main.py uses may wrap an encoder of its own and return only logits: the checks read maps
    model = next((m for m in candidates if m.maps_found), candidates[0] if candidates else None)
    if model is not None:
        return model
    if found.errors:  # the error of the class main.py uses for the role, else of one whose name suggests it
        meant = {(found.main or {}).get("roles", {}).get(r, [None])[0] for r in roles}
        cls, e = ([(c, e) for c, e in found.errors if c in meant]
                  or [(c, e) for c, e in found.errors if any(named_for(r, c) for r in roles)] or found.errors)[0]
        raise copy.copy(e)  # a fresh exception per check: pytest and `about` annotate the one they get
    what = "an encoder (a model returning (output, attn_maps))" if role == "encoder" else \
        "a decoder (a model returning next-token logits of shape (B, T, vocab_size))"
    where = "; ".join(f"{f}: {', '.join(cs) or 'no class'}" for f, cs in found.looked.items())
    raise InterfaceError(f"no class handed in builds {what}: the grader looked at every class of the Python files "
                         f"handed in ({where}) and builds those whose constructor takes the vocabulary size "
                         "(vocab_size, vocab, n_vocab, ...) or one config object; none does")


def forward(model, x, what):
    """(output, maps or None) of the model on x: maps as one (B, h, T, T) float64 tensor per layer."""
    with about(f"{model.cls} on token ids of shape {tuple(x.shape)}", f"m = {model.call}; m.eval(); "
               f"{model.invocation}"):
        result = run(model.obj, x, model.plan)
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
