"""Answers that are top-level values (`query121 = ...`, `m_key` assigned once per question), read in the sandbox.

A handout that asks for values rather than functions is answered by running the notebook: a spec's `values`
names them (SourceSpec.values). When a file assigns or changes one of them, its top-level statements run in
order up to the last statement that does, as the notebook ran them, and a keeper statement after each of those
statements copies the value into a slot: a new slot at each rebinding (`m_key = ...`) and at each notebook cell,
so `m_key = K.clone()` then `m_key[2] = ...` is one answer and a second cell's `m_key[2] = ...` another.
Statements after the last one never run; a file without such values runs only what extraction chose.

Keepers convert in the child (a tensor, a numpy array or a list becomes a float64 tensor; anything else a
sentence naming its type), because only plain data crosses the wire. Checks read the slots with
`kept(submission, file, name)` and call template functions with `returned(submission, file, fn)`, which
converts what they return the same way.
"""
import ast

from graders.extract import Statement, _bound_names, _segment

PROLOGUE = '''
def __graders_array__(value):
    import torch
    if value is None:
        return "None"
    try:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().double()
            return torch.empty(value.shape, dtype=torch.float64).copy_(value)
        import numpy
        return torch.from_numpy(numpy.array(value, dtype=numpy.float64))
    except Exception as e:
        return f"a {type(value).__name__} that is not an array of numbers ({type(e).__name__})"

def __graders_keep__(name, slot):
    if name in globals():
        __graders_kept__.setdefault(name, {})[slot] = __graders_array__(globals()[name])

def __graders_values__(name):
    return [value for _, value in sorted(__graders_kept__.get(name, {}).items())]

def __graders_call__(fn):
    return __graders_array__(globals()[fn]())

__graders_kept__ = {}
'''
GRADER_FILE = "<graders>"  # not among the texts the child shows in tracebacks


def instrument(texts, statements, names):
    """The statements to load for a file whose answers include the top-level `names`.

    `texts` are the file's cleaned cells in order (label -> text, as extraction left them), `statements`
    what extraction chose. Returns the prologue, then every top-level statement up to the last that writes a
    name of `names`, each such statement followed by its keeper, then the chosen statements that come later.
    """
    order, last = [], -1
    for file, text in texts.items():
        lines = text.split("\n")
        for stmt in ast.parse(text, file).body:
            written = {name: rebinds for name, rebinds in _writes(stmt).items() if name in names}
            source, start = _segment(stmt, lines, text)
            order.append((Statement(source, file, start, sorted(_bound_names(stmt))), written))
            last = len(order) - 1 if written else last
    out = [Statement(PROLOGUE, GRADER_FILE, 1, [])]
    slots, seen = {}, set()
    for statement, written in order[:last + 1]:
        out.append(statement)
        seen.add((statement.file, statement.lineno))
        for name, rebinds in sorted(written.items()):
            index, cell = slots.get(name, (-1, None))
            index = index + 1 if rebinds or cell != statement.file else index
            slots[name] = (index, statement.file)
            out.append(Statement(f"__graders_keep__({name!r}, {index})", GRADER_FILE, 1, []))
    return out + [s for s in statements if (s.file, s.lineno) not in seen]


def _writes(stmt):
    """{name: rebinds} for each global a top-level statement assigns (True) or changes in place (False):
    `x[2] = ...`, `x += ...`, `x.attr = ...`, `x[2].copy_(...)`; not inside functions or classes it defines."""
    found = {}

    def root(node):
        while isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):  # `x += 1` changes x in place
            found.setdefault(node.target.id, False)
            return visit(node.value)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found[node.id] = True
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store) and root(node):
            found.setdefault(root(node), False)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_")
              and not node.func.attr.startswith("_") and root(node.func.value)):
            found.setdefault(root(node.func.value), False)  # torch's in-place methods: m_key[2].copy_(k)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(stmt)
    return found


def kept(submission, file, name):
    """The successive values of the top-level `name` in the student's `file` (tensors, or sentences for what
    is not an array of numbers), oldest first; [] when the file never assigns it."""
    module = submission.spec.source(file).module
    return submission.session.call(module, "__graders_values__", (name,), label=f"reading {name}")


def returned(submission, file, fn):
    """What the student's function `fn()` returns, converted in the sandbox as `kept` converts values."""
    module = submission.spec.source(file).module
    return submission.session.call(module, "__graders_call__", (fn,), label=f"{fn}()")
