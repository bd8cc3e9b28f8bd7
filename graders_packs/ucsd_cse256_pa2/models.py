"""The student's models found by what they do, with no part of the grader: shared by the checks (roles.py, through
the sandbox's proxies) and the training jobs (jobs/, in the sandbox, where this file's source runs first).

PA2 gives no transformer.py skeleton, so every student names their own classes and constructor parameters.
A class is a candidate model when its constructor takes the vocabulary size; it is built with the starter's
hyper-parameters under the names students use for them (vocab_size, n_embd, n_head, ... and their common
aliases, or one config object), run on a batch of token ids, and given a role by what it returns:

- encoder: (output, attn_maps) with output (B, T, n_embd) or (B, n_embd): the starter's sanity_check contract;
- classifier: (logits of shape (B, n_output), attn_maps): an encoder with the classifier on top;
- decoder: next-token logits (B, T, vocab) (with or without maps; with targets, the loss).

When the student hands in main.py, its reading (mainpy.py, made in the grader and passed here as plain data,
`main`) says which hyper-parameter each constructor argument is and which class main.py uses for which role: a
parameter the alias table does not know (width=n_embd) is then named, and main.py's roles outrank the names'
hints among classes that play the same role.

Imports only the standard library and torch.
"""
import ast
import types

import torch

# The starter's main.py hyper-parameters; vocab_size and block_size differ from every other size, so the
# embeddings can be told apart by shape.
HP = {"vocab_size": 97, "n_embd": 64, "n_head": 2, "n_layer": 4, "block_size": 32, "n_hidden": 100, "n_output": 3,
      "n_input": 64, "dropout": 0.0, "pad_idx": 0}
# Batch rows of the ids that find a model's role and of every check's input: unlike every size above (n_head 2,
# n_output 3, n_layer 4), so maps laid out (head, batch, T, T) differ from (batch, head, T, T) by shape and are
# read right, and logits (B, n_output) are not square (graders/checks/sizes.py).
B = 5
ALIASES = {
    "vocab_size": ("vocab_size", "vocab", "n_vocab", "vocab_len", "vocabulary_size", "num_tokens", "ntoken",
                   "num_embeddings", "vocabsize", "v_size"),
    "n_embd": ("n_embd", "n_embed", "n_embedding", "embed_dim", "embedding_dim", "emb_dim", "embed_size",
               "embedding_size", "d_model", "dim", "d_embed", "embd_dim", "hidden_dim_model", "model_dim"),
    "n_head": ("n_head", "n_heads", "num_heads", "num_head", "nhead", "heads", "head_count"),
    "n_layer": ("n_layer", "n_layers", "num_layers", "num_layer", "nlayers", "layers", "depth", "num_blocks",
                "n_blocks"),
    "block_size": ("block_size", "max_len", "max_seq_len", "seq_len", "max_length", "context_length",
                   "context_size", "max_seq_length", "n_positions", "max_position_embeddings", "seq_length"),
    "n_hidden": ("n_hidden", "hidden_dim", "hidden_size", "d_ff", "ff_dim", "ffn_dim", "ff_hidden", "ffn_hidden",
                 "mlp_hidden", "dim_feedforward", "n_ff", "hidden", "ff_hidden_dim", "d_hidden",
                 "feed_forward_dimension", "feed_forward_dim", "feedforward_dim", "d_ffn", "ff_size", "ffn_size",
                 "cls_hidden_size", "classifier_hidden_size"),
    "n_output": ("n_output", "n_outputs", "num_classes", "n_classes", "output_dim", "output_size", "num_labels",
                 "n_labels", "out_dim", "n_out", "num_outputs"),
    "n_input": ("n_input", "input_size", "input_dim", "in_dim"),
    "dropout": ("dropout", "dropout_rate", "p_dropout", "pdrop", "drop", "attn_pdrop", "resid_pdrop", "embd_pdrop",
                "dropout_prob", "p_drop"),
    "pad_idx": ("pad_idx", "padding_idx", "pad_id", "pad_token_id", "pad_token"),
}
CAUSAL = ("causal", "is_causal", "is_decoder", "decoder", "masked", "use_causal_mask", "causal_mask")
# Roles whose checks grade the same model: the encoder's checks take the classifier over one.
FAMILY = {"encoder": {"encoder", "classifier"}, "classifier": {"encoder", "classifier"}, "decoder": {"decoder"}}
ROLE_NAMES = {"encoder": ("enc",), "classifier": ("class", "cls", "speech"),
              "decoder": ("dec", "lm", "language", "gpt")}
DEVICE = ("device", "dev", "torch_device")  # built on the grading device ('cpu' for the checks), whatever main.py says
# A forward's parameters besides the token ids that the grader fills in: an explicit mask gets the mask main.py
# builds for it (mainpy.py's recipe), else the usual ones (DEFAULT_MASKS); a flag that asks for the attention maps is
# set, since the checks read them.
MASKS = ("mask", "attn_mask", "attention_mask", "src_mask", "padding_mask", "pad_mask", "key_padding_mask",
         "src_key_padding_mask", "input_mask", "tgt_mask", "causal_mask", "look_ahead_mask", "key_mask", "masks")
MAP_FLAGS = ("return_attention", "return_attn", "return_attn_maps", "return_attention_maps", "return_attentions",
             "return_maps", "return_weights", "output_attentions", "output_attention", "need_weights",
             "get_attention", "with_attention", "return_attn_weights")
TARGETS = ("targets", "target", "y", "labels", "label", "label_ids", "labels_ids", "tgt", "y_true", "next_tokens")
# Masks as plain data: a padding mask, True (or 1) where x is a real token when `keep`, unsqueezed at `dims`; the
# causal mask, 1 on and below the diagonal. Without main.py's word the grader tries the padding mask in the shapes
# students broadcast against (B, h, T, T), (B, T, T) and (B, T) scores, and gives a decoder the causal mask.
PADDING = {"kind": "padding", "keep": True, "dims": [1, 2], "dtype": "bool"}
CAUSAL_MASK = {"kind": "causal", "keep": True, "dtype": "float"}
DEFAULT_MASKS = [PADDING, {**PADDING, "dims": [1]}, {**PADDING, "dims": []}]
ALIBI = ("alibi", "use_alibi", "with_alibi", "is_alibi", "alibi_bias", "use_alibi_bias")
CONFIG = ("config", "cfg", "args", "hparams", "hp", "params", "conf")
NAME_OF = {alias: name for name, aliases in ALIASES.items() for alias in aliases}

class Unusable(Exception):
    """A class the grader cannot build or run the handout's way; the message says what it expected."""


def signature_args(signature):
    """The ast.arguments of a constructor signature as the sandbox printed it ('(vocab_size, n_embd=64)'), or None."""
    try:
        return ast.parse(f"def f{signature}: pass").body[0].args
    except SyntaxError:
        return None


def parameters(signature):
    """[(name, required)] of a constructor signature, or None when it cannot be read (then every keyword is tried)."""
    return arguments(signature_args(signature))


def arguments(args):
    """[(name, required)] of an ast.arguments (self left out, a **kwargs as "**"), or None for None."""
    if args is None:
        return None
    positional = args.posonlyargs + args.args
    required = len(positional) - len(args.defaults)
    found = [(a.arg, i < required) for i, a in enumerate(positional)]
    found += [(a.arg, d is None) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return [(n, r) for n, r in found if n != "self"] + ([("**", False)] if args.kwarg else [])


def main_arguments(main, cls, signature):
    """{parameter: ["hp", name] or ["value", constant]} of main.py's call of `cls` (main: mainpy's reading, plain
    data; None without a main.py), its positional arguments matched to the signature's positional parameters."""
    call = (main or {}).get("calls", {}).get(cls)
    args = signature_args(signature) if call else None
    if args is None:
        return {}
    positional = [a.arg for a in args.posonlyargs + args.args if a.arg != "self"]
    given = {**dict(zip(positional, call["args"], strict=False)), **call["kwargs"]}  # more arguments: *args
    return {name: arg for name, arg in given.items() if arg is not None}


def stands_for(name, given):
    """The hyper-parameter a constructor parameter stands for: the one main.py passes it (given: main_arguments),
    else the one its name is an alias of; None when neither says."""
    kind, value = given.get(name, (None, None))
    return value if kind == "hp" else NAME_OF.get(name.lower())


def constructor_kwargs(cls, signature, causal, hp=HP, main=None):
    """The keyword arguments that build `cls` with the grader's hyper-parameters `hp`: each parameter gets the value
    of the hyper-parameter it stands for (stands_for: main.py's word first, as the student's own code builds the
    class, then the alias table); a flag the grader sets itself (causal, alibi) ignores main.py.

    The grader's values, not main.py's: the checks and thresholds are calibrated for them, and main.py's
    vocab_size is the course's tokenizer's. The one exception: a parameter that stands for no hyper-parameter but
    to which main.py passes a constant (an expansion factor, a dropout rate of its own name, a flag) gets that
    constant, since the grader has no value of its own for it. Unusable names a required parameter that gets no
    value."""
    params = parameters(signature)
    if params is None or params == [("**", False)]:
        return dict(hp)
    names = [n for n, _ in params]
    if len(names) == 1 and names[0].lower() in CONFIG:
        return {names[0]: types.SimpleNamespace(**hp, causal=causal)}
    given = main_arguments(main, cls, signature)
    kwargs = {}
    for name, required in params:
        if name.lower() in CAUSAL:
            kwargs[name] = causal
        elif name.lower() in DEVICE:
            kwargs[name] = hp.get("device", "cpu")
        elif hyper := stands_for(name, given):
            kwargs[name] = hp[hyper]
        elif name in given and name.lower() not in ALIBI:
            kwargs[name] = given[name][1]
        elif required and name != "**":
            raise Unusable(unnamed(cls, signature, name, main))
    return kwargs


def unnamed(cls, signature, name, main):
    """Why the grader cannot build `cls`: its required parameter `name` is no hyper-parameter it knows. Says what
    the grader passes and never guesses which hyper-parameter `name` might be."""
    call = (main or {}).get("calls", {}).get(cls)
    known = ", ".join(f"{n} (or {', '.join(ALIASES[n][1:4])})" for n in ("vocab_size", "n_embd", "n_head", "n_layer",
                                                                         "block_size", "n_hidden", "n_output"))
    tried = (f"the grader passes the starter's hyper-parameters by these names: {known}; 'cpu' to a device "
             f"parameter ({', '.join(DEVICE)}); the causal and ALiBi flags it sets itself")
    if call:
        return (f"{cls}{signature} requires {name!r}, and main.py's `{call['text']}` passes it nothing the grader "
                f"can read as one of main.py's hyper-parameters (n_embd, block_size, ..., tokenizer.vocab_size) or a "
                f"constant ({tried}). Give {name} a default value, or pass it a constant or one of main.py's "
                "hyper-parameter variables by name.")
    return (f"{cls}{signature} requires {name!r}, which is not one of the hyper-parameters of the starter's main.py "
            f"({tried}). Give {name} a default value, use the handout's names, or hand in the main.py that builds "
            f"{cls}, which the grader reads to name it.")


def takes_vocabulary(signature, cls=None, main=None):
    """Whether a class is a candidate model: its constructor takes the vocabulary size (by name, or as main.py
    passes it tokenizer.vocab_size) or one config object."""
    params = parameters(signature)
    if params is None:
        return False
    given = main_arguments(main, cls, signature)
    names = [n for n, _ in params]
    return any(stands_for(n, given) == "vocab_size" for n in names) or (len(names) == 1 and names[0].lower() in CONFIG)


def forward_parameters(sources, classes):
    """{class: [(name, required)] of its forward's parameters besides the token ids, or None where the source does
    not say}: read with ast from the file's text (`sources`: its cells), following base classes of the same file."""
    defs = {}
    for text in sources:
        try:
            defs.update({n.name: n for n in ast.parse(text).body if isinstance(n, ast.ClassDef)})
        except (SyntaxError, ValueError, RecursionError):
            continue

    def forward(cls, seen=()):
        node = defs.get(cls)
        if node is None or cls in seen:
            return None
        method = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "forward"), None)
        if method is not None:
            return (arguments(method.args) or [])[1:]  # the token ids
        bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
        return next(filter(None, (forward(b, (*seen, cls)) for b in bases)), None)

    return {cls: forward(cls) for cls in classes}


def forward_plans(params, recipe=None, decoder=False):
    """The ways to call a forward with these parameters (besides the ids; None: unknown), best first, as plain data
    {"mask": parameter or None, "recipe": mask recipe, "flags": [parameters set True]}: a required mask parameter
    gets main.py's recipe (`recipe`) when it says one, else the causal mask for a decoder, the padding mask in each
    usual shape for another model."""
    flags = [n for n, _ in params or [] if n.lower() in MAP_FLAGS]
    mask = next((n for n, required in params or [] if required and n.lower() in MASKS), None)
    if mask is None:
        return [{"mask": None, "recipe": None, "flags": flags}]
    recipes = [recipe] if recipe else [CAUSAL_MASK] if decoder else DEFAULT_MASKS
    return [{"mask": mask, "recipe": r, "flags": flags} for r in recipes]


def mask_of(recipe, x):
    """The mask a recipe (see PADDING) describes for the token ids x."""
    T = x.shape[1]
    if recipe["kind"] == "causal":
        keep = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        m = keep if recipe.get("keep", True) else ~keep
    else:
        m = (x != HP["pad_idx"]) if recipe.get("keep", True) else (x == HP["pad_idx"])
        for d in recipe.get("dims", []):
            m = m.unsqueeze(d)
    return m if recipe.get("dtype") == "bool" else m.to({"long": torch.long, "int": torch.int}.get(
        recipe.get("dtype"), torch.float))


def forward_kwargs(plan, x):
    """The keyword arguments a forward plan (forward_plans) gives a call on ids x."""
    if plan is None:
        return {}
    kwargs = dict.fromkeys(plan["flags"], True)
    if plan["mask"]:
        kwargs[plan["mask"]] = mask_of(plan["recipe"], x)
    return kwargs


def described(plan):
    """A forward plan in words, for feedback: what the grader passed besides the ids."""
    if plan is None or not (plan["mask"] or plan["flags"]):
        return ""
    parts = [f"{f}=True" for f in plan["flags"]]
    r = plan["recipe"] or {}
    if plan["mask"] and r.get("kind") == "causal":
        parts.append(f"{plan['mask']}={'torch.tril' if r.get('keep', True) else '~torch.tril'}(torch.ones(T, T))")
    elif plan["mask"]:
        ops = "".join(f".unsqueeze({d})" for d in r.get("dims", []))
        parts.append(f"{plan['mask']}=(x {'!=' if r.get('keep', True) else '=='} 0){ops}"
                     + ("" if r.get("dtype") == "bool" else f".{r.get('dtype', 'float')}()"))
    return ", ".join(parts)


def flatten(value):
    """The tensors of a (nested) list or tuple, in order."""
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in flatten(v)]
    return [value] if type(value) is torch.Tensor else []


def describe(value):
    if type(value) is torch.Tensor:
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        if len(value) > 3 and len(flatten(value)) == len(value):
            return f"a {kind} of {len(value)} tensors of shape {tuple(value[0].shape)}"
        return f"a {len(value)}-{kind} ({', '.join(describe(v) for v in value)})"
    return "None" if value is None else f"a {getattr(value, 'type_name', type(value).__name__)}"


def layer_maps(value, B, T, n_head=HP["n_head"], n_layer=HP["n_layer"]):
    """The attention maps in `value` as one (B, h, T, T) tensor per layer (h is 1 when the student returns one
    map per layer, e.g. the heads' mean; B is 1 when only the first example's maps are kept), and how they were
    found; None when `value` holds no maps.

    Accepted: a list (or tuple) per layer of (B, h, T, T), (h, B, T, T) (per-head maps stacked; told apart by
    B != n_head), (B, T, T) or (T, T) tensors, of lists of per-head maps, a flat list of n_layer * n_head maps, or
    one stacked (n_layer, B, h, T, T) tensor."""
    stacked = type(value) is torch.Tensor and value.dim() == 5 and value.shape[-2:] == (T, T)
    if stacked:
        value = list(value)
    if not isinstance(value, (list, tuple)) or not value:
        return None
    tensors = [t.unsqueeze(0) if t.dim() == 2 else t for t in flatten(value)]  # one example's (T, T) map
    first = tuple(tensors[0].shape) if tensors else ()  # as the student laid it out
    heads_first = B != n_head and all(t.dim() == 4 and t.shape[:2] == (n_head, B) for t in tensors)
    if heads_first:
        tensors = [t.transpose(0, 1) for t in tensors]
    if not tensors or any(t.shape[-2:] != (T, T) or t.dim() not in (3, 4) or t.shape[0] != tensors[0].shape[0]
                          for t in tensors) or tensors[0].shape[0] not in (1, B):
        return None
    shape = "h, B, T, T" if heads_first else (
        f"{'B' if tensors[0].shape[0] == B else '1'}, {'h, ' if tensors[0].dim() == 4 else ''}T, T")
    if stacked:
        return list(tensors), f"one stacked tensor of shape (n_layer, {shape}) = {(len(tensors), *first)}"
    if all(t.dim() == 4 for t in tensors):
        return list(tensors), f"{len(tensors)} tensors of shape ({shape}) = {first}"
    if len(tensors) == n_layer * n_head and len(tensors) != n_layer:
        layers = [torch.stack(tensors[i * n_head:(i + 1) * n_head], 1) for i in range(n_layer)]
        return layers, f"{len(tensors)} maps of shape ({shape}) = {first}, one per layer and head"
    return [t.unsqueeze(1) for t in tensors], (f"{len(tensors)} maps of shape ({shape}) = {first}, "
                                               "one per layer")


def classify(result, B, T, hp=HP):
    """(role, output, maps value) of what model(ids) returned, or None when it fits no role."""
    def is_maps(value):
        return layer_maps(value, B, T) is not None

    parts = list(result) if isinstance(result, (tuple, list)) and not is_maps(result) else [result]
    tensors = [p for p in parts if type(p) is torch.Tensor and p.dim() >= 2]
    maps = next((p for p in parts if not (type(p) is torch.Tensor and p.dim() in (2, 3)) and is_maps(p)), None)
    for t in tensors:
        if t.shape in ((B, T, hp["vocab_size"]), (B * T, hp["vocab_size"])):
            return "decoder", t.reshape(B, T, -1), maps
        if t.shape == (B, hp["n_output"]):
            return "classifier", t, maps
        if t.shape in ((B, T, hp["n_embd"]), (B, hp["n_embd"])):
            return "encoder", t, maps
    return None


def contract(role, result, maps):
    """How `result` departs from what the handout asks of the role, in words ([] when it does not)."""
    if role == "decoder":
        return [] if maps is not None else ["it returns no attention maps (return (logits, attn_maps))"]
    if not (isinstance(result, tuple) and len(result) == 2 and maps is result[1]):
        return [f"it returns {describe(result)}; the starter's utilities.sanity_check unpacks "
                "`_, attn_maps = model(input_tensor)`, so return exactly (output, attn_maps)"]
    return []


def ids(B, T, seed, pad_from=None, vocab=HP["vocab_size"]):
    """(B, T) token ids in 1..vocab-1 from `seed`; positions from `pad_from` on are padding (id 0)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(1, vocab, (B, T), generator=g)
    if pad_from is not None:
        x[:, pad_from:] = 0
    return x


def module_globals(setters, reads):
    """{"setters": [helpers that set hyper-parameter globals], "models": [classes that read a vocabulary global one
    of them sets]} (setters: {function: the globals it declares}; reads: {class: the globals it reads}), as plain
    data: the checks and the jobs call the helpers first and take those classes for candidate models."""
    found = [f for f, names in setters.items() if any(n.lower() in NAME_OF for n in names)]
    vocab = {n for f in found for n in setters[f] if NAME_OF.get(n.lower()) == "vocab_size"}
    return {"setters": found, "models": [c for c, names in reads.items() if set(names) & vocab]}


def set_globals(setters, signatures, call, failures, hp=HP, main=None):
    """[(helper, exception)]: each helper that sets the hyper-parameter globals called as call(name, kwargs), with
    the grader's values under its parameters' names (as main.py calls it, when it does)."""
    errors = []
    for name in setters:
        try:
            call(name, constructor_kwargs(name, signatures.get(name), False, hp, main))
        except failures as e:
            errors.append((name, e))
    return errors


def find(classes, build, forward, failures, hp=HP, B=B, main=None, forwards=None, global_models=()):
    """({role: (class name, object, kwargs, what forward returned, forward plan)}, [(class name, exception)]) for the
    classes ([(name, constructor signature)]): each candidate built by build(name, kwargs) and run by forward(obj,
    ids, plan), the plan (forward_plans) from its forward's parameters (forwards: {class: parameters}, None where
    unknown) and main.py's mask recipe for it; a class that takes no vocabulary size is a candidate when it reads
    the vocabulary global a helper sets (global_models: module_globals' "models"). A role goes to the class that
    ranks highest for it (rank), the first one on a tie (an ALiBi class only when no other plays it); a class
    main.py (main: mainpy's reading) uses for a role it does not play adds a Contradiction to the errors. A class
    with a causal flag (or a config) is built once per flag."""
    x, found, errors, played = ids(B, hp["block_size"], 0, vocab=hp["vocab_size"]), {}, [], {}
    for cls, signature in sorted(classes, key=lambda c: "alibi" in c[0].lower()):  # part 3's variants last
        if not (takes_vocabulary(signature, cls, main) or cls in global_models):
            continue
        params = [n.lower() for n, _ in parameters(signature) or []]
        flags = [False, True] if any(n in CAUSAL for n in params) or params in ([c] for c in CONFIG) else [False]
        for causal in flags:
            try:
                kwargs = constructor_kwargs(cls, signature, causal, hp, main)
                obj = build(cls, kwargs)
                result, plan = planned(forward, obj, x, (forwards or {}).get(cls),
                                       (main or {}).get("masks", {}).get(cls), failures, hp)
            except failures as e:  # a forward parameter the grader could not fill is named, not the crash it caused
                why = unfilled(cls, (forwards or {}).get(cls))
                errors.append((cls, Unusable(f"{why} (the grader's call raised: {e})") if why else e))
                continue
            kind = classify(result, B, hp["block_size"], hp)
            if kind is None:
                errors.append((cls, Unusable(f"{cls}(...)(ids{', ' + described(plan) if described(plan) else ''}) "
                                             f"with ids of shape {tuple(x.shape)} returned {describe(result)}, which "
                                             "is neither (output, attn_maps) of an encoder or classifier nor "
                                             "next-token logits of a decoder")))
                continue
            played.setdefault(cls, []).append((kind[0], describe(result)))
            if kind[0] not in found or rank(kind[0], cls, main) > rank(kind[0], found[kind[0]][0], main):
                found[kind[0]] = (cls, obj, kwargs, result, plan)
    return found, errors + contradictions(main, played)


def unfilled(cls, params):
    """Why the grader's call of cls's forward failed (params: its parameters besides the ids), or None: a required
    parameter that is neither a mask, a flag nor the targets (the grader passed the next tokens to it)."""
    known = MASKS + MAP_FLAGS + TARGETS
    missing = [n for n, required in params or [] if required and n != "**" and n.lower() not in known]
    if not missing:
        return None
    return (f"{cls}.forward requires {missing[0]!r} besides the token ids, which the grader cannot fill: it passes a "
            f"mask to a parameter named {', '.join(MASKS[:4])}, ..., the next tokens to {', '.join(TARGETS[:3])}, "
            f"..., and True to {', '.join(MAP_FLAGS[:3])}, ...; give {missing[0]} a default value or one of "
            "those names")


def planned(forward, obj, x, params, recipe, failures, hp=HP):
    """(forward(obj, x, plan), plan) for the first plan that runs; a model that reads as a decoder under a padding
    mask the grader chose is given the causal mask instead, as main.py would build it for a decoder."""
    *others, plan = forward_plans(params, recipe)
    for tried in others:
        try:
            return decoded(forward, obj, x, params, recipe, tried, forward(obj, x, tried), hp)
        except failures:
            continue
    return decoded(forward, obj, x, params, recipe, plan, forward(obj, x, plan), hp)


def decoded(forward, obj, x, params, recipe, plan, result, hp):
    kind = classify(result, *x.shape, hp)
    if plan["mask"] and not recipe and kind and kind[0] == "decoder":
        causal = forward_plans(params, decoder=True)[0]
        return forward(obj, x, causal), causal
    return result, plan


class Contradiction(Unusable):
    """main.py uses a class for a role that what the class returns does not fit; `role` is main.py's."""

    def __init__(self, role, message):
        super().__init__(message)
        self.role = role


def contradictions(main, played):
    """[(class, Contradiction)] for each class main.py uses for a role that it does not play (played: {class:
    [(role, what it returned)]}). What a class returns wins over what main.py says: the checks grade behaviour."""
    out = []
    for role, (cls, how) in (main or {}).get("roles", {}).items():
        roles = [r for r, _ in played.get(cls, [])]
        if roles and not FAMILY[role] & set(roles):
            out.append((cls, Contradiction(role, f"main.py uses {cls} as the {role} ({how}), but {cls}(...)(ids) "
                                                 f"returned {played[cls][0][1]}: it plays the {roles[0]}, and the "
                                                 "grader goes by what a class returns")))
    return out


def rank(role, cls, main):
    """How strongly `cls` is meant for `role`: main.py uses it so, main.py's Utilities sanity-checks it, its name
    says so (tuples compare in that order)."""
    said = (main or {}).get("roles", {}).get(role, [None])[0]
    return said == cls, cls in (main or {}).get("sanity", ()), named_for(role, cls)


def named_for(role, cls):
    """Whether a class's name says it plays `role` (a generic Transformer base class plays every role)."""
    return any(h in cls.lower() for h in ROLE_NAMES[role])
