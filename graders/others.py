"""The Python files of a hand-in that the spec does not name (PA2's classifier.py, main.py, attention.py), for a
spec file that asks for them (`other_files`): each is extracted as that file is (its classes and what they read)
and loaded as a module named after it, so the checks find classes in every file and `from transformer import
Block` works in the sandbox as it did on the student's machine.

None runs as a script: extraction keeps definitions only, so a main.py's top-level training code and its
`if __name__ == "__main__":` body never run. Modules load in an order where each file's imports of the others
come first (a cycle keeps the hand-in's order)."""
import ast
import functools
import importlib.metadata
import keyword
import sys
from dataclasses import dataclass

from graders import packs
from graders.extract import Extraction, extract
from graders.submission import SourceFile, read

MAX_FILES = 20   # a hand-in with a virtual environment inside holds thousands
RESERVED = {"graders", "graders_packs", "submission"}  # the grader's packages and the sandbox's package of modules


@dataclass
class Other:
    module: str              # the name it is loaded (and imported) as: its stem
    source: SourceFile
    extraction: Extraction


def collect(intake, spec, owner):
    """([Other], notices): the .py files of the hand-in that no code file of the spec claims (a data file such as
    PA2's main.py is read as data and loaded this way too), those in `owner`'s folder first. A file whose name is
    no module name, or would hide a module the sandbox imports (torch.py), is left out with a note."""
    claimed = {intake.files[f.name].path for f in spec.files if not f.data and f.name in intake.files}
    home = intake.files[owner.name].path.parent if intake.files[owner.name].path else None
    paths = sorted((p for p in intake.code if p.suffix == ".py" and p not in claimed),
                   key=lambda p: (p.parent != home, len(p.parts), str(p)))
    taken = {f.module for f in spec.files if f.module} | RESERVED
    found, notices = [], []
    for path in paths:
        name = path.stem
        if name in taken:
            notices.append(f"also found {path.name}, another file of that name; it was not loaded")
        elif not loadable(name):
            notices.append(f"{path.name} was not loaded: {name!r} is not a module name the grader may give a "
                           "student file (it would hide Python's or an installed library's module)")
        elif len(found) == MAX_FILES:
            notices.append(f"loaded only the first {MAX_FILES} other Python files of the hand-in")
            break
        else:
            taken.add(name)
            source = read(path)
            extraction = Extraction() if source.problem else extract(source.cells, [], all_classes=True)
            notices += source.notices + extraction.notices + ([source.problem] if source.problem else [])
            found.append(Other(name, source, extraction))
    return found, notices


def loadable(name):
    """Whether a student file may be loaded as module `name`: a module name that hides none of Python's, the
    installed libraries', the grader's or a course pack's."""
    return (name.isidentifier() and not keyword.iskeyword(name)
            and name not in RESERVED | shadowed() | set(packs.hidden_modules()))


def aliases(source):
    """[the stem] of a spec file found by its content (model.py graded as transformer.py), which the hand-in's
    other files import by that name, when it may be loaded so; else []."""
    stem = source.path.stem if source.by_content and source.path else ""
    return [stem] if loadable(stem) else []


@functools.cache
def shadowed():
    """The top-level names of Python's and the installed libraries' modules, which no student file may take."""
    return set(sys.stdlib_module_names) | set(importlib.metadata.packages_distributions())


def ordered(modules):
    """The sandbox's modules ([{"name", "statements", "aliases", ...}]) in an order where each comes after the others it
    imports at its top level; stable otherwise."""
    by = {a: m["name"] for m in modules for a in [m["name"], *m.get("aliases", ())]}  # imported as -> module
    needs = {m["name"]: {by[n] for n in imported(m["statements"]) if n in by} - {m["name"]} for m in modules}
    done, out, left = set(), [], list(modules)
    while left:
        ready = next((m for m in left if needs[m["name"]] <= done), left[0])
        left.remove(ready)
        out.append(ready)
        done.add(ready["name"])
    return out


def imported(statements):
    """The top-level module names the statements import (`import a.b`, `from a import b`, `from .a import b`)."""
    names = set()
    for st in statements:
        try:
            tree = ast.parse(st["source"])
        except (SyntaxError, ValueError, RecursionError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
    return names

