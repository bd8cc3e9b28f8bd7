"""What the student's main.py says about their models, read as data: parsed with `ast`, never imported or run (it
is the student's code, and only the sandbox runs that).

The starter's main.py builds the models and hands them to compute_classifier_accuracy(classifier, data_loader),
compute_perplexity(decoderLMmodel, data_loader) and Utilities(tokenizer, model).sanity_check; students edit it
and hand it in with transformer.py. Read, it tells the grader:

- which class of transformer.py plays which role: the object passed to compute_classifier_accuracy (or called
  in a loop over a `..._CLS_...` loader) is the classifier, and an object of another transformer.py class among
  its constructor's arguments is the encoder; the one passed to compute_perplexity (or called in a loop over a
  `..._LM_...` loader) is the decoder; those given to Utilities are models sanity_check plots;
- the mask main.py hands a model's forward (`model(xb, mask)` with `mask = (xb != 0).unsqueeze(1)`, or
  `torch.tril(torch.ones(T, T))`), as a recipe the grader rebuilds for its own ids (models.mask_of);
- which of the grader's hyper-parameters each constructor argument is: main.py's names for them (n_embd,
  block_size, ..., `tokenizer.vocab_size`, `len(...)`), so that a parameter the alias table does not know
  (`width=n_embd`) is built with the grader's value of n_embd.

Only simple forms are followed: assignments to one name (`model = Cls(...).to(device)`, `m = Cls(...); model =
m.to(device)`, `EMB = n_embd`), classes called by name or as `module.Cls`, arguments that are names, attributes,
`len(...)` or constants. Whatever else main.py does is left out, and what is left out falls back to finding the
models by what they do (models.py). A main.py that is absent or does not parse gives None: nothing changes.

The result is plain data (dicts, lists, strings, numbers), handed as such to the checks (roles.py) and to the
training jobs, which build the models in the sandbox with the same reading (models.constructor_kwargs):
    {"roles": {role: [class, how main.py uses it]}, "sanity": [class, ...],
     "calls": {class: {"args": [argument, ...], "kwargs": {parameter: argument}, "text": "Cls(n_embd, ...)"}},
     "masks": {class: mask recipe}}  (masks only when main.py passes one)
where an argument is ["hp", hyper-parameter], ["value", constant] or None (not readable).
"""
import ast

from graders_packs.ucsd_cse256_pa2.models import HP, MASKS, NAME_OF, module_globals

FILE = "main.py"
# The role each starter function gives the model it is handed: (role, argument position, parameter name).
ROLE_CALLS = {"compute_classifier_accuracy": ("classifier", 0, "classifier"),
              "compute_perplexity": ("decoder", 0, "decoderLMmodel"),
              "Utilities": ("sanity", 1, "model")}
SELF_RETURNING = {"to", "cuda", "cpu", "float", "double", "train", "eval", "requires_grad_"}  # nn.Module's
LOOP_ROLES = {"cls": "classifier", "lm": "decoder"}  # a word of a loop's iterable: train_CLS_loader, train_LM_loader
STARTER = {k: HP[k] for k in ("block_size", "n_embd", "n_head", "n_layer", "n_input", "n_hidden", "n_output")}
SAME = {"n_input": "n_embd"}  # the starter: n_input "should match the embedding size of the transformer"
# Numbers below this are read as written, never as a hyper-parameter by value: 2, 3 and 4 are the starter's n_head,
# n_output and n_layer but also any multiplier (ff_mult=4), while sizes (64, 32, 100) are hardly anything else.
SIZED = 8
DTYPES = {"float": "float", "double": "float", "half": "float", "bool": "bool", "long": "long", "int": "int"}
PASSING = {"to", "cuda", "cpu", "detach", "clone", "contiguous", "requires_grad_"}  # leave a mask as it is
MAX_DEPTH = 20     # assignments followed from one name (a = b; b = a ends here)
MAX_TEXT = 160     # characters of main.py quoted in feedback
MAX_CHARS = 256 << 10  # characters of main.py the grader reads (the starter's has some 10 thousand)


def conventions(submission):
    """The reading of the submission's main.py (see the module docstring), or None; read once per submission."""
    def reading():
        source = submission.source(FILE)
        cells = [c.text for c in source.cells] if source and source.problem is None else []
        models = submission.extraction(next(f.name for f in submission.spec.files if f.any_classes))  # transformer.py
        # the helpers that set module globals too: main.py's call of one names their hyper-parameters
        return read(cells, handed_in_classes(submission) + list(models.setters)) if cells else None
    return submission.memo("pa2 main.py", reading, per_child=False)


def handed_in_classes(submission):
    """The classes of transformer.py and of the hand-in's other Python files (classifier.py, main.py), in load
    order, each name once."""
    models = submission.extraction(next(f.name for f in submission.spec.files if f.any_classes))
    return list(dict.fromkeys(models.classes + [c for o in submission.others for c in o.extraction.classes]))


def job_args(submission):
    """The training jobs' extra arguments, as plain data (they build the models as the checks do): main.py's reading
    and transformer.py's helpers that set hyper-parameter globals (models.module_globals), with the modules of the
    hand-in's other files whose classes count too ("others")."""
    extraction = submission.extraction(next(f.name for f in submission.spec.files if f.any_classes))
    facts = module_globals(extraction.setters, {c: extraction.reads.get(c, ()) for c in extraction.classes})
    return {"main": conventions(submission), "module": {**facts, "others": [o.module for o in submission.others]}}


def read(cells, classes):
    """The reading of main.py's code cells (one for a .py; a cell that does not parse is left out) for the classes
    of transformer.py, or None when nothing in it could be read. A main.py over MAX_CHARS is not read at all: the
    starter's is some 10 KB, and the grader's own process must not spend long on student text."""
    size = sum(map(len, cells))
    if size > MAX_CHARS:
        return unread(f"main.py has {size} characters, more than the {MAX_CHARS} the grader reads")
    body = []
    try:
        for text in cells:
            try:
                body += ast.parse(text).body
            except (SyntaxError, ValueError):
                continue
        reader = Reader(set(classes), body)
        reader.visit(ast.Module(body, []))
        return reader.result()
    except (RecursionError, MemoryError):  # a pathologically nested file: read nothing rather than half
        return unread("main.py nests its expressions too deeply to be read")


def unread(why):
    """The reading of a main.py the grader did not read: no roles, no calls, and why (shown with the models)."""
    return {"roles": {}, "sanity": [], "calls": {}, "unread": f"{why}; the models were found by what they do"}


def short(node):
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def words(node):
    """The lower-case words of the names in an expression (train_CLS_loader: train, cls, loader)."""
    names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    names += [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
    return {w.lower() for name in names for w in name.split("_")}


class Reader(ast.NodeVisitor):
    """Walks main.py in source order, keeping the latest simple assignment of each name per function (module-level
    ones stay visible in functions, as Python's globals), and records the models main.py builds and uses."""

    def __init__(self, classes, body):
        self.classes, self.aliases = classes, {}
        globals_ = {t.id: s.value for s in body if isinstance(s, ast.Assign) for t in s.targets
                    if isinstance(t, ast.Name)}  # seen from functions, whatever their place in the file
        self.scopes = [globals_]
        hyper = {NAME_OF[n.lower()]: v.value for n, v in globals_.items() if n.lower() in NAME_OF
                 and isinstance(v, ast.Constant) and type(v.value) in (int, float)}
        self.hyper = {**STARTER, **hyper}
        self.loops, self.built, self.uses, self.sanity, self.masks = [], {}, {}, [], {}

    def result(self):
        roles = {role: [cls, how] for role, (_, cls, how, _) in self.uses.items()}
        calls = {cls: self.arguments(self.uses_call(cls) or call) for cls, call in self.built.items()}
        if not (roles or calls or self.sanity):
            return None
        return {"roles": roles, "sanity": self.sanity, "calls": calls} | ({"masks": self.masks} if self.masks else {})

    def uses_call(self, cls):
        """The construction of `cls` that main.py uses for a role (the one whose arguments count)."""
        return next((call for _, c, _, call in self.uses.values() if c == cls), None)

    # -- walking
    def visit_ImportFrom(self, node):
        for a in node.names:
            if a.name in self.classes:
                self.aliases[a.asname or a.name] = a.name

    def visit_FunctionDef(self, node):
        """A scope of its own (a class body's too), where a function's parameters hide globals of the same name
        (`def train(model): model(x)` says nothing about a global `model`)."""
        args = getattr(node, "args", None)
        params = args.posonlyargs + args.args + args.kwonlyargs if args else []
        self.scopes.append(dict.fromkeys(a.arg for a in params))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Assign(self, node):
        """Bind each name target; a model is bound to its construction at once, so `m = m.to(device)` reads the
        earlier `m`."""
        self.visit(node.value)
        model = self.model(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.scopes[-1][target.id] = model[1] if model else node.value

    def visit_If(self, node):
        """The first branch is the run main.py makes by default (`if args.model == "part1": model = A(...) elif
        ...: model = B(...)`): what it binds outlasts the other branches' bindings of the same names."""
        self.visit(node.test)
        for stmt in node.body:
            self.visit(stmt)
        first = dict(self.scopes[-1])
        for stmt in node.orelse:
            self.visit(stmt)
        self.scopes[-1].update(first)

    def visit_For(self, node):
        self.visit(node.iter)
        self.loops.append(next((role for word, role in LOOP_ROLES.items() if word in words(node.iter)), None))
        for stmt in node.body + node.orelse:
            self.visit(stmt)
        self.loops.pop()

    def visit_Call(self, node):
        self.generic_visit(node)
        cls = self.class_of(node.func)
        if cls:
            self.built.setdefault(cls, node)
        called = self.model(node.func)
        if called:
            self.forward_mask(called[0], node)
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name in ROLE_CALLS:
            role, position, keyword = ROLE_CALLS[name]
            arg = node.args[position] if len(node.args) > position else \
                next((k.value for k in node.keywords if k.arg == keyword), None)
            self.use(role, arg, 2, lambda: f"{name}({short(arg) if arg else ''}, ...) at line {node.lineno}")
        elif any(self.loops) and isinstance(node.func, ast.Name):
            role = next(r for r in reversed(self.loops) if r)
            self.use(role, node.func, 1,
                     lambda: f"{short(node)} at line {node.lineno}, in a loop over the {role}'s data")

    def use(self, role, expr, strength, how):
        """Record that main.py uses the model `expr` evaluates to as `role`; a starter function's word (strength 2)
        counts over a training loop's (1), and the first use over later ones. `how` writes the use out in words,
        called only for a use that is kept: quoting every nested call would take time quadratic in the nesting."""
        found = self.model(expr)
        if found is None:
            return
        cls, call = found
        if role == "sanity":
            self.sanity += [cls] if cls not in self.sanity else []
            return
        if self.uses.get(role, (0,))[0] < strength:
            self.uses[role] = (strength, cls, how(), call)
        if role == "classifier":  # an encoder handed to the classifier's constructor: Classifier(encoder, ...)
            inner = next(filter(None, (self.model(a) for a in call.args + [k.value for k in call.keywords])), None)
            if inner and self.uses.get("encoder", (0,))[0] < strength:
                self.uses["encoder"] = (strength, inner[0], f"passed to {short(call)}", inner[1])

    def forward_mask(self, cls, call):
        """Record the mask a call of a `cls` model passes (its second argument or a mask keyword), the first one
        main.py passes."""
        args = call.args[1:2] + [k.value for k in call.keywords if k.arg and k.arg.lower() in MASKS]
        recipe = next(filter(None, map(self.mask, args)), None)
        if recipe and cls not in self.masks:
            self.masks[cls] = recipe

    # -- evaluating
    def mask(self, expr, depth=0):
        """The recipe (models.PADDING, models.CAUSAL_MASK) of a mask expression: a comparison of the ids with a
        constant (x != 0, x.ne(0), x == pad) or torch.tril/triu of ones, unsqueezed, indexed with None, inverted or
        cast; None for anything else."""
        if expr is None or depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            return self.mask(self.lookup(expr.id), depth + 1)
        if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], (ast.NotEq, ast.Eq)) \
                and isinstance(expr.comparators[0], ast.Constant):
            return {"kind": "padding", "keep": isinstance(expr.ops[0], ast.NotEq), "dims": [], "dtype": "bool"}
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.Invert, ast.Not)):
            inner = self.mask(expr.operand, depth + 1)
            return inner and {**inner, "keep": not inner["keep"]}
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Tuple):
            inner = self.mask(expr.value, depth + 1)
            dims = [i for i, e in enumerate(expr.slice.elts) if isinstance(e, ast.Constant) and e.value is None]
            return inner and inner["kind"] == "padding" and {**inner, "dims": inner["dims"] + dims}
        if not (isinstance(expr, ast.Call) and isinstance(expr.func, (ast.Attribute, ast.Name))):
            return None
        name = expr.func.attr if isinstance(expr.func, ast.Attribute) else expr.func.id
        if name in ("tril", "triu"):
            return {"kind": "causal", "keep": name == "tril", "dtype": "float"}
        if name in ("ne", "eq") and isinstance(expr.func, ast.Attribute):
            return {"kind": "padding", "keep": name == "ne", "dims": [], "dtype": "bool"}
        inner = self.mask(expr.func.value, depth + 1) if isinstance(expr.func, ast.Attribute) else None
        if inner is None:
            return None
        if name == "unsqueeze" and inner["kind"] == "padding" and expr.args and isinstance(expr.args[0], ast.Constant):
            return {**inner, "dims": inner["dims"] + [expr.args[0].value]}
        if name in DTYPES:
            return {**inner, "dtype": DTYPES[name]}
        return inner if name in PASSING else None

    def lookup(self, name):
        return next((scope[name] for scope in reversed(self.scopes) if name in scope), None)

    def class_of(self, func):
        """The transformer.py class a call's callee names (Cls, an imported alias of it, module.Cls), or None."""
        if isinstance(func, ast.Name):
            name = self.aliases.get(func.id, func.id)
            return name if name in self.classes else None
        return func.attr if isinstance(func, ast.Attribute) and func.attr in self.classes else None

    def model(self, expr, depth=0):
        """(class, construction call) of the model `expr` evaluates to, following names and `.to(device)`-like
        calls that return the module itself; None when it is no construction main.py makes plainly."""
        if expr is None or depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            return self.model(self.lookup(expr.id), depth + 1)
        if not isinstance(expr, ast.Call):
            return None
        cls = self.class_of(expr.func)
        if cls:
            return cls, expr
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in SELF_RETURNING:
            return self.model(expr.func.value, depth + 1)
        return None

    def arguments(self, call):
        args = []
        for a in call.args:
            if isinstance(a, ast.Starred):  # positions after *args are unknown
                break
            args.append(self.argument(a))
        return {"args": args, "kwargs": {k.arg: self.argument(k.value) for k in call.keywords if k.arg},
                "text": short(call)}

    def argument(self, expr, depth=0):
        """["hp", name] for an expression main.py names a hyper-parameter by (n_embd, EMB = n_embd,
        tokenizer.vocab_size, len(...)), ["value", constant] for a constant, None for anything else.

        A number of at least SIZED stands for the hyper-parameter that has that value in main.py (its own n_embd,
        ..., else the starter's) when exactly one does, so `EMB = 64` is n_embd; otherwise it stays a number."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            if expr.id.lower() in NAME_OF:
                return ["hp", NAME_OF[expr.id.lower()]]
            return self.argument(self.lookup(expr.id), depth + 1) if self.lookup(expr.id) is not None else None
        if isinstance(expr, ast.Attribute):
            return ["hp", NAME_OF[expr.attr.lower()]] if expr.attr.lower() in NAME_OF else None
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "len":
            return ["hp", "vocab_size"]
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub) and isinstance(expr.operand, ast.Constant):
            expr = ast.Constant(-expr.operand.value) if type(expr.operand.value) in (int, float) else expr
        if not isinstance(expr, ast.Constant) or type(expr.value) not in (int, float, bool, str, type(None)):
            return None
        sized = type(expr.value) in (int, float) and abs(expr.value) >= SIZED
        names = {SAME.get(n, n) for n, v in self.hyper.items() if sized and v == expr.value}
        return ["hp", names.pop()] if len(names) == 1 else ["value", expr.value]
