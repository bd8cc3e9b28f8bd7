"""Extract the graded code from a student's file: the functions the spec names and what they depend on.

Only definitions run in the sandbox (functions, classes, imports, assignments that graded code reads), so
experiments, training loops and downloads later in a notebook never run. When a name is defined twice,
the first real definition is graded (later cells redefine functions for experiments) and the feedback says
so. A syntax error costs only the top-level chunk it sits in.
"""
import ast
import re
import symtable
from dataclasses import dataclass, field

MAX_REPAIRS = 100
DEF_NAME = re.compile(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)")


@dataclass
class Statement:
    source: str
    file: str
    lineno: int
    names: list[str]


@dataclass
class Extraction:
    statements: list[Statement] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)   # name -> why its definition could not be used
    texts: dict[str, str] = field(default_factory=dict)     # file label -> cleaned text, for tracebacks
    functions: list[str] = field(default_factory=list)      # every top-level function, graded or not
    classes: list[str] = field(default_factory=list)        # every top-level class, in source order


@dataclass
class _Definition:
    source: str
    file: str
    lineno: int
    binds: set[str]
    stub: bool
    function: bool
    klass: bool

    def refs(self):
        return _global_refs(self.source, self.file)


def extract(cells, wanted, all_classes=False):
    """`all_classes` also grades every top-level class: students who name their own classes (UCSD CSE 256 PA2),
    whose checks find them by what they do."""
    result = Extraction()
    definitions = []
    for cell in cells:
        tree, text = _parse_recovering(cell.text, cell.file, result)
        result.texts[cell.file] = text
        lines = text.split("\n")
        for stmt in tree.body:
            binds = _bound_names(stmt)
            if binds:
                source, lineno = _segment(stmt, lines, text)
                definitions.append(_Definition(source, cell.file, lineno, binds, _is_stub(stmt),
                                               isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)),
                                               isinstance(stmt, ast.ClassDef)))
    result.functions = sorted({name for d in definitions if d.function for name in d.binds})
    result.classes = list(dict.fromkeys(name for d in definitions if d.klass for name in d.binds))  # source order
    chosen = _select(definitions, list(wanted) + (result.classes if all_classes else []), result)
    result.statements = [Statement(d.source, d.file, d.lineno, sorted(d.binds)) for d in definitions if id(d) in chosen]
    return result


def _select(definitions, wanted, result):
    """Worklist from the wanted names through the globals each chosen definition reads."""
    by_name = {}
    for d in definitions:
        for name in d.binds:
            by_name.setdefault(name, []).append(d)
    chosen, seen, todo = set(), set(), list(wanted)
    while todo:
        name = todo.pop(0)
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        options = by_name[name]
        d = next((o for o in options if not o.stub), options[0])
        if name in wanted and len(options) > 1:
            places = ", ".join(f"{o.file} line {o.lineno}" for o in options)
            why = "the first one" if d is options[0] else "the first one that is not a handout stub"
            result.notices.append(f"{name} is defined {len(options)} times ({places}); graded {why}, "
                                  f"at {d.file} line {d.lineno}")
        if id(d) not in chosen:
            chosen.add(id(d))
            todo.extend(sorted(d.refs()))
    return chosen


def _parse_recovering(text, file, result):
    """Parse; on a syntax error blank out the top-level chunk around it and try again."""
    lines = text.split("\n")
    for _ in range(MAX_REPAIRS):
        try:
            return ast.parse("\n".join(lines), file), "\n".join(lines)
        except (SyntaxError, RecursionError, MemoryError) as e:
            # Deeply nested or very long expressions exhaust the parser: treat them as syntax errors.
            lineno = getattr(e, "lineno", None) or _deepest_line(lines)
            lo, hi = _chunk(lines, lineno - 1)
            names = [m.group(1) for m in map(DEF_NAME.match, lines[lo:hi]) if m and not m.group(0)[0].isspace()]
            msg = getattr(e, "msg", "the expression is too deep to parse")
            why = f"{file} line {lineno}: {type(e).__name__}: {msg}"
            result.notices.append(f"{why}; skipped lines {lo + 1}-{hi} and graded the rest")
            for name in names:
                result.broken.setdefault(name, f"its definition has a syntax error ({why})")
            lines[lo:hi] = [""] * (hi - lo)
    return ast.parse(""), ""


def _deepest_line(lines):
    """Where a parser that ran out of stack most likely choked: the longest line."""
    return max(range(len(lines)), key=lambda i: len(lines[i])) + 1 if lines else 1


def _chunk(lines, index):
    """The top-level statement around line `index`: from the last unindented line to the next one."""
    starts = [i for i, line in enumerate(lines) if line[:1] and not line[0].isspace() and line[0] not in "#)]}"]
    index = min(max(index, 0), len(lines) - 1)
    lo = max((i for i in starts if i <= index), default=0)
    while lo > 0 and lines[lo - 1].startswith("@"):
        lo -= 1
    hi = min((i for i in starts if i > index), default=len(lines))
    return lo, max(hi, lo + 1)


def _bound_names(stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.If, ast.Try)):
        names = set()
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
        return names
    return set()


def _is_stub(stmt):
    """A handout stub (`pass`, `...`, `raise NotImplementedError`) that a later cell fills in."""
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = [s for s in stmt.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s))
               for s in body)


def _segment(stmt, lines, text):
    start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
    if stmt.col_offset == 0:
        return "\n".join(lines[start - 1: stmt.end_lineno]), start
    return ast.get_source_segment(text, stmt), stmt.lineno


def _global_refs(source, file):
    """Global names a statement reads, from Python's own symbol tables."""
    refs = set()

    def walk(table, top):
        for sym in table.get_symbols():
            if (top and sym.is_referenced()) or (not top and sym.is_global() and sym.is_referenced()):
                refs.add(sym.get_name())
        for child in table.get_children():
            walk(child, False)

    try:
        walk(symtable.symtable(source, file, "exec"), True)
    except (SyntaxError, RecursionError, MemoryError):
        pass
    return refs
