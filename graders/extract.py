"""Extract the graded code from a student's file: the functions the spec names and what they depend on.

Only definitions run in the sandbox (functions, classes, imports, assignments that graded code reads), so
experiments, training loops and downloads later in a notebook never run. When a name is defined more than
once, the graded definition is the one its section leaves in place when the notebook runs top to bottom:
the section (graders/sections.py) that holds its first real definition (a handout stub never counts), whose
last definition wins, since a later cell there fixes it; a definition in a later section is an experiment
and is ignored. A file without numbered sections is one section, as Python runs it. The feedback says so,
beside each check that uses the name. A syntax error costs only the top-level chunk it sits in.
"""
import ast
import re
import symtable
from dataclasses import dataclass, field

from graders import sections

MAX_REPAIRS = 100
DEF_NAME = re.compile(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)")
STAR = "*"  # what `from m import *` binds: any name, so with all_classes every star import is kept


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
    notes: dict[str, str] = field(default_factory=dict)     # name -> which of its definitions is graded, and why
    reads: dict[str, set[str]] = field(default_factory=dict)  # name -> the names its graded definition reads
    setters: dict[str, list[str]] = field(default_factory=dict)  # top-level function -> the globals it declares

    def notes_about(self, names):
        """The notes on `names` and on the graded code they read: what a check that calls them relies on."""
        seen, todo, found = set(), sorted(names), []
        while todo:
            name = todo.pop(0)
            if name not in seen:
                seen.add(name)
                found += [self.notes[name]] if name in self.notes else []
                todo += sorted(self.reads.get(name, ()))
        return found


@dataclass
class _Definition:
    source: str
    file: str
    lineno: int
    binds: set[str]
    stub: bool
    function: bool
    klass: bool
    heading: sections.Heading | None   # the section heading in force where it stands
    section: tuple | None = None       # that heading's number at the file's section level

    @property
    def where(self):
        return f"{self.file} line {self.lineno}"

    def refs(self):
        return _global_refs(self.source, self.file)


def extract(cells, wanted, all_classes=False):
    """`all_classes` also grades every top-level class: students who name their own classes (UCSD CSE 256 PA2),
    whose checks find them by what they do."""
    result = Extraction()
    definitions, headings, heading = [], [], None
    for cell in cells:
        tree, text = _parse_recovering(cell.text, cell.file, result)
        result.texts[cell.file] = text
        lines = text.split("\n")
        marks = sorted(cell.headings + sections.code_headings(text))
        headings += marks
        for stmt in tree.body:
            while marks and marks[0].line < stmt.lineno:
                heading = marks.pop(0)
            binds = _bound_names(stmt)
            if binds:
                source, lineno = _segment(stmt, lines, text)
                definitions.append(_Definition(source, cell.file, lineno, binds, _is_stub(stmt),
                                               isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)),
                                               isinstance(stmt, ast.ClassDef), heading))
        heading = marks[-1] if marks else heading
    depth = sections.level(headings)
    for d in definitions:
        d.section = d.heading.number[:depth] if d.heading else None
    result.functions = sorted({name for d in definitions if d.function for name in d.binds})
    result.classes = list(dict.fromkeys(name for d in definitions if d.klass for name in d.binds))  # source order
    # with all_classes, a function that sets module globals (a helper that sets the hyper-parameters the classes
    # read) is kept too: the checks may call it before building the classes
    result.setters = {name: names for d in definitions if d.function and (names := _declared_globals(d.source))
                      for name in d.binds} if all_classes else {}
    # with all_classes, star imports are kept too: a class may read any name one of them binds (students split their
    # models over files and write `from transformer import *`)
    extra = result.classes + list(result.setters) + [STAR] if all_classes else []
    chosen = _select(definitions, list(wanted) + extra, result, bool(headings))
    result.statements = [Statement(d.source, d.file, d.lineno, sorted(d.binds)) for d in definitions if id(d) in chosen]
    return result


def _select(definitions, wanted, result, sectioned):
    """Worklist from the wanted names through the globals each chosen definition reads."""
    by_name = {}
    for d in definitions:
        for name in d.binds:
            by_name.setdefault(name, []).append(d)
    chosen, seen, todo = set(), set(), list(wanted)
    known = by_name.keys() | {n for names in result.setters.values() for n in names}  # globals set by a helper
    while todo:
        name = todo.pop(0)
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        if name == STAR:  # every star import runs: each may bind what a class reads
            chosen |= {id(d) for d in by_name[name]}
            continue
        d, note = _graded(name, by_name[name], sectioned)
        if note and (name in wanted or d.function or d.klass):
            result.notes[name] = note
            result.notices.append(note)
        stubs = [o.where for o in by_name[name] if o.stub and not d.stub]
        if stubs and name in wanted:
            result.notices.append(f"{name}: graded the definition at {d.where}; the handout stub at "
                                  f"{', '.join(stubs)} does not count")
        refs = d.refs()
        result.reads[name] = refs & known
        if id(d) not in chosen:
            chosen.add(id(d))
            todo.extend(sorted(refs))
    return chosen


def _graded(name, options, sectioned):
    """The definition of `name` that runs (the last real one in the section of its first real one) and a note
    when another real definition was replaced or ignored."""
    real = [o for o in options if not o.stub]
    if not real:
        return options[0], None
    same = [o for o in real if o.section == real[0].section]
    later = [o for o in real if o.section != real[0].section]
    notes = []
    if len(same) > 1:
        where = "in the same section" if sectioned else "later in the file, which has no numbered sections"
        notes.append(f"{name} was defined again {where} ({', '.join(o.where for o in same[1:])}); the later "
                     "definition is graded, as running it top to bottom leaves it")
    notes += [f"{name} is redefined in a later section ({o.where}, '{o.heading.title}'); that experiment is ignored"
              for o in later]
    return same[-1], "; ".join(notes) or None


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
    """The names a top-level statement defines; a script's `if __name__ == "__main__":` body defines nothing (it is
    the training run, never a definition), and `from m import *` binds STAR."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {STAR if a.name == "*" else (a.asname or a.name).split(".")[0] for a in stmt.names}
    if _is_main_guard(stmt):
        return set()
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


def _is_main_guard(stmt):
    test = stmt.test if isinstance(stmt, ast.If) else None
    return (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and {ast.unparse(test.left), ast.unparse(test.comparators[0])} == {"__name__", "'__main__'"})


def _declared_globals(source):
    """The names a function's `global` statements declare, in order."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    return list(dict.fromkeys(n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names))


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
