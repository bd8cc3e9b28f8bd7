"""`graders package`: a Gradescope autograder zip, or a student self-check kit, for one assignment.

Both carry the engine and the check modules the assignment imports. The Gradescope zip carries them and the
reference as they are, with Gradescope's setup.sh and run_autograder. The student kit carries no reference code
and no hidden check: check modules lose their hidden tests (cut out by line, so the tests left keep their exact
source), modules that derive from the reference (`KIT = "recorded"`, and a pack's `reference` itself) become stand-ins
that replay results recorded at package time (graders/record.py, graders/replay.py), and modules that cannot be
replayed or would reveal the reference (`KIT = "withheld"`) stay out, their public checks with them. A kit is
written only once it grades every sample of the class as the autograder does (graders/kitcheck.py).
"""
import ast
import importlib
import importlib.metadata
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from graders import kitcheck, packs, replay
from graders import spec as specs
from graders.jobs import Driver

ROOT = Path(__file__).resolve().parents[1]  # where graders and graders_packs lie: a checkout or site-packages
ENGINE = ROOT / "graders"
COURSE = "course"  # a course's own packs, in both zips: GRADERS_COURSE names this folder
PACKAGE_TIME = {"package.py", "record.py", "kitcheck.py"}  # neither zip runs them
STAND_IN = '''"""Stand-in for trusted code in the student kit: it answers the public checks' calls with results recorded
from that code when the kit was built, and holds none of it (see graders/replay.py)."""
from graders.replay import stand_in

globals().update(stand_in(__name__))
'''


def main(args, spec):
    started = time.monotonic()
    out = args.gradescope or args.student
    if args.gradescope:
        pins = tested_versions(spec)
        files, lines = gradescope(spec, pins), [f"setup.sh installs {', '.join(pins)}"]
    else:
        files, lines = student_kit(spec)
        if problems := verified(files, spec):
            print(f"graders package: the kit grades unlike the autograder, so {out} was not written:",
                  *problems[:50], sep="\n  ", file=sys.stderr)
            return 1
        lines.append(f"verified: the kit grades each of the {len(kitcheck.samples(spec.id))} samples (the reference "
                     "among them) as the autograder does")
    write_zip(out, files)
    print(*lines, sep="\n")
    print(f"{out}: {len(files)} files, {out.stat().st_size / 1e6:.1f} MB, built in {time.monotonic() - started:.0f} s")
    return 0


# What to ship: modules found by reading their source, never by importing them.

@cache
def find(name):
    """The module `name` of the engine or a pack, or None when it is none (a name imported from a module)."""
    root = root_of(name)
    if root is None:
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return Module(name, path, ast.parse(path.read_text(), str(path)))
    return None


def root_of(name):
    """The folder the module `name` imports from: ROOT for the engine and the built-in packs, a course folder for
    a course's pack; None for anything else (torch, the standard library)."""
    top = name.split(".")[0]
    if top in ("graders", packs.BUILTIN):
        return ROOT
    return next((p.folder.parent for p in packs.packs() if p.module == top and not p.builtin), None)


def zip_path(module_path, name):
    """Where a module's file goes in a zip: course packs under COURSE/, the rest as under ROOT."""
    root = root_of(name)
    return str(Path(COURSE if root != ROOT else "") / module_path.relative_to(root))


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module = field(repr=False)

    @property
    def kit(self):
        """The module's `KIT = "recorded" | "withheld"` declaration, or None (shipped as source)."""
        return self.constant("KIT")

    @property
    def kit_why(self):
        """Why a withheld module's checks cannot run in a kit (its `KIT_WHY`), for the kit's notes."""
        return self.constant("KIT_WHY")

    def constant(self, name):
        """The value of a module-level `name = <literal>`, read from the source; None when there is none."""
        return next((ast.literal_eval(node.value) for node in self.tree.body if isinstance(node, ast.Assign)
                     and [getattr(t, "id", None) for t in node.targets] == [name]
                     and isinstance(node.value, ast.Constant)), None)

    @property
    def tests(self):
        return {node.name: node for node in self.tree.body
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}

    def imports(self, wanted=None):
        """(import statement, [modules of this project it imports]): course content, or the modules `wanted` says."""
        package = self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                within = package.rsplit(".", node.level - 1)[0] if node.level else ""  # a relative import's package
                base = ".".join(filter(None, [within, node.module]))
                names = [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
            else:
                continue
            found = [name for name in names if (wanted or in_pack)(name) and find(name)]
            if found:
                yield node, found


def in_pack(name):
    """Whether `name` is course content: a module of the built-in packs or of a course's pack."""
    root = root_of(name)
    return root is not None and not (root == ROOT and name.split(".")[0] == "graders")


def is_reference(name):
    """A pack's trusted reference (`<pack>.reference`, a module or a package, and its modules)."""
    return in_pack(name) and "reference" in name.split(".")[1:]


def parents(name):
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def package_modules(spec, pattern):
    """The checks package and its modules whose files match `pattern` (test_*.py: what pytest collects)."""
    folder = find(spec.checks).path.parent
    names = {".".join([spec.checks, *p.relative_to(folder).with_suffix("").parts]).removesuffix(".__init__")
             for p in folder.rglob(pattern) if "samples" not in p.relative_to(folder).parts}
    return [find(name) for name in sorted(names | {spec.checks})]


def engine_files():
    return {f"graders/{p.relative_to(ENGINE)}": p.read_bytes() for p in sorted(ENGINE.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
            and p.name not in PACKAGE_TIME}


# The engine's commands a kit does not run (grading a class, packaging, Slurm, new packs): its self-check never
# imports them, and they would only weigh on the student's install (Slurm, Hugging Face, report templates).
NOT_IN_KIT = ("graders.batch", "graders.kitcheck", "graders.package", "graders.record", "graders.report",
              "graders.runners.slurm", "graders.scaffold", "graders.verify")
# What `selfcheck.py --train` runs (the local runner and the jobs' drivers): only in the kits of assignments with
# threshold checks, so that the others stay as light as before.
TRAINING = ("graders.jobs", "graders.runners", "graders.thresholds")


def in_kit_engine(name, training=False):
    out = NOT_IN_KIT if training else NOT_IN_KIT + TRAINING
    return name.split(".")[0] == "graders" and not any(name == m or name.startswith(f"{m}.") for m in out)


def kit_engine(modules, training=False):
    """The engine's files a kit needs: the modules that `modules` (the kit's checks and job drivers) and the
    self-check command import, transitively, lazy imports too, but none of NOT_IN_KIT (nor TRAINING unless the kit
    trains); the sandbox whole (its child runs by path). Also the names of the engine's modules that declare
    `KIT = "recorded"` (graders/checks/oracle.py): the kit gets stand-ins for them, not their source."""
    names, recorded, todo = set(), set(), [find("graders.cli"), find("graders.__main__"), find("graders.replay"),
                                           *modules]
    wanted = lambda name: in_kit_engine(name, training)  # noqa: E731
    while todo:
        module = todo.pop()
        if module.kit == "recorded" and module.name.split(".")[0] == "graders":
            recorded.add(module.name)
        elif module.name not in names:
            names.add(module.name)
            todo += [find(name) for _, found in module.imports(wanted) for name in found]
    paths = {find(n).path for n in names if n.split(".")[0] == "graders"} | set((ENGINE / "sandbox").glob("*.py"))
    paths |= {ENGINE / "pytest.ini"} | {p.parent / "__init__.py" for p in paths}
    return {f"graders/{p.relative_to(ENGINE)}": p.read_bytes() for p in sorted(paths)}, recorded


def source_files(names):
    """Each module of `names` and its parent packages (folders such as given/ are none), by path in the zip."""
    modules = {n: find(n) for name in names for n in [*parents(name), name] if n != "graders"}
    return {zip_path(m.path, m.name): m.path.read_bytes() for m in modules.values() if m}


# The Gradescope autograder.

def gradescope(spec, pins):
    """Gradescope's zip: setup.sh and run_autograder at the top, the source they install and run beside them;
    setup.sh installs the `pins` (tested_versions)."""
    folder = find(spec.checks).path.parent
    drivers = [Driver.load(job.driver) for job in spec.jobs.values()]
    names, todo = set(), package_modules(spec, "*.py") + [find(d.name) for d in drivers]
    while todo:
        module = todo.pop()
        if module.name not in names:
            names.add(module.name)
            todo += [find(name) for _, found in module.imports() for name in found]
    files = engine_files() | source_files(names) | {  # the pack's data (given/, jobs/), not its samples
        zip_path(p, spec.checks): p.read_bytes() for p in sorted(folder.rglob("*"))
        if p.is_file() and not {"__pycache__", "samples", "specs"} & set(p.relative_to(folder).parts)}
    files |= {zip_path(path, spec.checks): path.read_bytes() for path in specs.files(spec.id)}  # and its offerings
    files |= {"pyproject.toml": pyproject().encode(), "setup.sh": setup_script(spec, pins).encode(),
              "run_autograder": RUN_AUTOGRADER.replace("ASSIGNMENT", spec.id).encode()}
    return files | job_files(drivers)


def job_files(drivers):
    """The jobs' code, which the grader sends to the sandbox as text (a JobSource has several files, the engine's
    job_weights.py among them), by path in the zip."""
    return {zip_path(p, "graders" if p.is_relative_to(ENGINE) else d.name): p.read_bytes()
            for d in drivers for p in d.paths}


def dependencies(extra=None):
    """The engine's requirements (or one extra's), from the installed distribution's metadata."""
    marker = f'extra == "{extra}"'
    return [r.split(";")[0].strip() for r in importlib.metadata.requires("graders")
            if (marker in r if extra else "extra ==" not in r)]


def pyproject():
    """The bundled source's pyproject.toml: the engine, the built-in packs, their data, and the hf extra."""
    quoted = lambda items: ", ".join(f'"{i}"' for i in items)
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "graders"
version = "{importlib.metadata.version('graders')}"
requires-python = ">=3.11"
dependencies = [{quoted(dependencies())}]

[project.optional-dependencies]
hf = [{quoted(dependencies("hf"))}]

[tool.setuptools.packages.find]
include = ["graders", "graders.*", "graders_packs", "graders_packs.*"]

[tool.setuptools.package-data]
graders = ["pytest.ini", "report/templates/*"]
graders_packs = ["*/specs/*", "*/given/*", "*/jobs/*", "*/*.yaml"]
"""


def tested_versions(spec):
    """Requirements pinned to the versions installed here, torch first: the zip is built where its checks were
    run, and a release that changes a check's numbers (torch), the examples drawn (hypothesis) or the API
    (transformers, peft: assignments that run Hugging Face models) must not reach Gradescope untested. Read from
    this environment, not from constraints.txt, which pins only CI's torch wheel, not the builder's machine."""
    names = ["torch", "hypothesis"] + (["transformers", "peft"] if uses_hf(spec) else [])
    pins = []
    for name in names:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            raise ValueError(f"{spec.id} runs {name}, which is not installed here, so its version cannot be pinned: "
                             "install the grader with its hf extra and run the assignment's checks") from None
        pins.append(f"{name}=={version.split('+')[0]}")  # 2.13.0+cpu: the CPU index serves 2.13.0 as +cpu
    return pins


def uses_hf(spec):
    """Whether the assignment's checks run Hugging Face models (its spec gives tiny_hub.py)."""
    return any(f.given and f.name == "tiny_hub.py" for f in spec.files)


SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image: Python 3.11, a CPU-only torch (no multi-GB CUDA
# wheels) and this folder's graders, installed in place (-e) so that the grader imports and the sandbox hides
# one copy of graders/ and graders_packs/, with the versions of torch, hypothesis (and transformers) it was built with.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV=/opt/graders-venv
if ! python3.11 -c "import ensurepip, venv" 2>/dev/null; then
    apt-get update
    if ! apt-get install -y python3.11 python3.11-venv; then
        apt-get install -y software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        apt-get install -y python3.11 python3.11-venv
    fi
fi
python3.11 -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install --index-url https://download.pytorch.org/whl/cpu "TORCH"
"$VENV/bin/pip" install -e SOURCE_AND_PINS
# The sandbox runs student code as a dedicated uid, which must be able to run this Python.
chmod -R o+rX "$VENV"
"""


def setup_script(spec, pins):
    """setup.sh installing `pins` (tested_versions), with the hf extra where the checks run Hugging Face models."""
    torch, *others = (f'"{pin}"' for pin in pins)
    source = '"$SOURCE[hf]"' if uses_hf(spec) else '"$SOURCE"'
    return SETUP.replace('"TORCH"', torch).replace("SOURCE_AND_PINS", " ".join([source, *others]))


RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission. It grades $ROOT/submission with the bundled source and always exits
# 0 with $ROOT/results/results.json in place: Gradescope shows a bare failure otherwise. AUTOGRADER_ROOT moves
# /autograder (to try this script elsewhere); without setup.sh's Python it uses python3 from PATH.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON=/opt/graders-venv/bin/python
[ -x "$PYTHON" ] || PYTHON=python3
RESULTS="$ROOT/results/results.json"
# Student code never runs as root here: without the sandbox's dedicated uid the grader refuses (exit 2, the reason on
# stderr). GRADERS_UNISOLATED=1 grades anyway, to try this script where no other user can run the Python.
ISOLATION=--require-isolation
[ "${GRADERS_UNISOLATED:-}" = 1 ] && ISOLATION=
mkdir -p "$ROOT/results"
# Not from inside the source: `python -m graders` drops the working directory from sys.path.
cd "$ROOT"
[ -d "$ROOT/source/course" ] && export GRADERS_COURSE="$ROOT/source/course"  # a course's own packs
PYTHONPATH="$ROOT/source" "$PYTHON" -m graders grade "$ROOT/submission" --assignment ASSIGNMENT --out "$ROOT/results" \
    $ISOLATION
status=$?
if [ ! -s "$RESULTS" ]; then
    printf '{"score": 0, "tests": [], "visibility": "visible", "output": "The autograder could not run '\
'(exit status %s); please tell course staff."}\n' "$status" > "$RESULTS"
fi
exit 0
"""


# The student kit.

@dataclass
class Kit:
    """What a student kit holds for one assignment."""
    spec: object
    shipped: dict = field(default_factory=dict)     # module name -> Module, shipped as (filtered) source
    recorded: set = field(default_factory=set)      # module names replaced by stand-ins
    withheld: dict = field(default_factory=dict)    # module name -> Module, left out with its checks
    cut: dict = field(default_factory=dict)         # module name -> import statements of withheld modules
    engine: dict = field(default_factory=dict)      # the engine's files it needs, by path in the zip

    @classmethod
    def plan(cls, spec):
        kit = cls(spec)
        todo = package_modules(spec, "test_*.py") + [find(d.name) for d in kit.drivers]  # drivers ship as source
        while todo:
            module = todo.pop()
            if module.name in kit.shipped:
                continue
            kit.shipped[module.name] = module
            todo += [find(p) for p in parents(module.name) if p != "graders" and find(p)]
            for node, names in module.imports():
                for name in names:
                    found = find(name)
                    if is_reference(name) or found.kit == "recorded":
                        kit.recorded.add(name)
                    elif found.kit == "withheld":
                        if not (isinstance(node, ast.ImportFrom) and node.names[0].name == "*"):
                            raise ValueError(f"{module.name} imports names from {name}, which the kit withholds")
                        kit.withheld[name] = found
                        kit.cut.setdefault(module.name, []).append(node)
                    else:
                        todo.append(found)
        kit.recorded -= {p for name in kit.recorded for p in parents(name)}  # packages of stand-ins stay packages
        lost = [c.name for p in spec.parts for c in p.checks if c.visibility.value == "visible" and not c.job
                and c not in kit.included + kit.autograder_only]  # threshold checks train: autograder only
        if lost:
            raise ValueError(f"the checks of {spec.id} define no test function for {', '.join(lost)}")
        kit.engine, recorded = kit_engine(kit.shipped.values(), training=bool(kit.trained))
        kit.recorded |= recorded
        return kit

    def checks(self, where):
        """The visible checks whose test functions are defined in `where` (modules by name)."""
        defined = {test for module in where.values() for test in module.tests}
        return [c for p in self.spec.parts for c in p.checks if c.visibility.value == "visible" and c.name in defined]

    @property
    def included(self):
        return self.checks(self.shipped)

    @property
    def autograder_only(self):
        return self.checks(self.withheld)

    @property
    def trained(self):
        """The visible threshold checks whose driver the kit may ship: the kit runs them on request (`--train`, smoke
        profile). A driver that says `KIT = "withheld"` keeps its checks in the autograder."""
        return [c for c in self.thresholds if find(self.spec.jobs[c.job].driver).kit != "withheld"]

    @property
    def thresholds(self):
        return [c for p in self.spec.parts for c in p.checks if c.visibility.value == "visible" and c.job]

    @property
    def drivers(self):
        return [Driver.load(self.spec.jobs[name].driver) for name in dict.fromkeys(c.job for c in self.trained)]

    def spec_text(self):
        """The kit's spec: its checks, its threshold checks with their jobs, and no file whose checks all stay in
        the autograder (a kit never loads a student's A2S3.py, whose imports are Hugging Face's) unless the kit
        trains: a job may load any of the student's files (A4's birthplace job, attention.py); and its YAML."""
        spec = self.spec.only({c.name for c in self.included + self.trained})
        kept = {p.file for p in spec.parts} | {f.name for f in spec.files if f.given or self.trained}
        dropped = {p.file for p in self.spec.parts} - kept
        spec = spec.model_copy(update={"files": [f for f in spec.files if f.name not in dropped],
                                       "rules": [r for r in spec.rules if r.file not in dropped],
                                       "jobs": {c.job: spec.jobs[c.job] for c in self.trained}})
        header = "# The checks this self-check kit runs; the course autograder runs more (see README.md).\n"
        return spec, header + yaml.safe_dump(spec.model_dump(mode="json", exclude_defaults=True), sort_keys=False,
                                             allow_unicode=True, width=120)

    def source(self, module):
        """The module's source without the tests the kit leaves out and without imports of withheld modules."""
        keep = {c.name for c in self.included}
        lines = module.path.read_text().splitlines(keepends=True)
        edits = [(node.lineno, node.end_lineno, "") for node in self.cut.get(module.name, [])]
        for name, node in module.tests.items():
            if name not in keep:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                while start > 1 and lines[start - 2].lstrip().startswith("#"):  # a comment about this test
                    start -= 1
                edits.append((start, node.end_lineno, ""))
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
                names = [n for n in ast.literal_eval(node.value) if not n.startswith("test_") or n in keep]
                edits.append((node.lineno, node.end_lineno, f"__all__ = {names!r}\n"))
        for start, end, text in sorted(edits, reverse=True):
            lines[start - 1:end] = [text]
        return "".join(lines)

    def notes(self):
        every = [c for p in self.spec.parts for c in p.checks]
        hidden = [c for c in every if c.visibility.value != "visible"]
        lines = [f"This self-check kit runs {len(self.included)} of the assignment's {len(every)} checks "
                 f"({sum(c.points for c in self.included):g} of {points(every)}). The course autograder also runs "
                 f"{len(hidden)} hidden {'check' if len(hidden) == 1 else 'checks'} ({points(hidden)}), and draws "
                 "other examples."]
        for module in self.withheld.values():
            checks = self.checks({module.name: module})
            if checks:
                why = module.kit_why or "they need code or data the kit does not hold"
                lines.append(f"These public checks run only in the course autograder, because {why}: "
                             + "; ".join(c.title for c in checks) + ".")
        if self.trained:
            lines.append(f"Threshold checks, which train a model and run only with --train ({points(self.trained)}): "
                         + "; ".join(c.title for c in self.trained) + ".")
        for driver in dict.fromkeys(self.spec.jobs[c.job].driver for c in self.thresholds if c not in self.trained):
            checks = [c for c in self.thresholds if self.spec.jobs[c.job].driver == driver]
            why = find(driver).kit_why or "their training job holds code the kit must not show"
            lines.append(f"These threshold checks run only in the course autograder, because {why}: "
                         + "; ".join(c.title for c in checks) + ".")
        return lines


def points(checks):
    total = sum(c.points for c in checks)
    return f"{total:g} {'point' if total == 1 else 'points'}"


def student_kit(spec):
    """The kit's files by path in the zip, and lines that say what it holds."""
    from graders.record import record

    kit = Kit.plan(spec)
    recording = record(kit.spec_text()[0], sorted(kit.recorded)) if kit.recorded else {"calls": {}, "surfaces": {}}
    lines = [f"kit checks: {', '.join(c.name for c in kit.included) or 'none'}",
             f"public checks only in the autograder: {', '.join(c.name for c in kit.autograder_only) or 'none'}",
             f"threshold checks (with --train, smoke profile): {', '.join(c.name for c in kit.trained) or 'none'}",
             f"recorded: {', '.join(sorted(kit.recorded)) or 'nothing'} ({len(recording['calls'])} calls)"]
    return kit_files(kit, recording), lines


def kit_files(kit, recording):
    """The files of `kit` (a plan) by path in the zip: the engine's files it needs, its shipped modules and job
    files, stand-ins, given files, `recording` and the kit's spec, README and requirements."""
    spec, (_, spec_text), notes = kit.spec, kit.spec_text(), kit.notes()
    files = kit.engine | job_files(kit.drivers)
    files |= {zip_path(m.path, m.name): kit.source(m).encode() for m in kit.shipped.values()}
    files |= {zip_path(find(name).path, name): STAND_IN.encode() for name in kit.recorded}
    files |= {zip_path(find(p).path, p): b'"""Stand-ins for trusted code (see graders/replay.py)."""\n'
              for name in kit.recorded for p in parents(name) if p not in kit.shipped and in_pack(p) and find(p)}
    folder = find(spec.checks).path.parent
    files |= {zip_path(p, spec.checks): p.read_bytes() for p in sorted((folder / "given").glob("*")) if p.is_file()}
    preload = kit.spec_text()[0].preload
    needs, hf = requirements(files, preload=preload), requirements(files, "hf", preload)
    files |= {"requirements-hf.txt": hf.encode()} if hf else {}
    files |= {"graders/recording.grd": replay.save({**recording, "notes": notes}),
              zip_path(folder / "specs" / f"{spec.id}.yaml", spec.checks): spec_text.encode(),
              "requirements.txt": needs.encode(),
              "selfcheck.py": SELFCHECK.replace("ASSIGNMENT", spec.id).encode(),
              "README.md": readme(kit, notes, needs, hf).encode()}
    return {f"{spec.id}-self-check/{path}": data for path, data in files.items()}


def verified(files, spec):
    """What the built kit (`files`) grades unlike the autograder (graders/kitcheck.py); [] when nothing."""
    return kitcheck.check(files, Kit.plan(spec).spec_text()[0], next(iter(files)).split("/")[0])


def requirements(files, extra=None, preload=()):
    """The engine's requirements (or its `extra`'s) that the kit's Python `files` ({path: bytes}) import, or its
    sandbox `preload`s (peft: the child imports it before the student's code), with the engine's ranges: torch
    unpinned, so a student's torch stays as it is (no Slurm or report libraries). Hugging Face's (the hf extra) go
    in a file of their own: a kit whose fine-tuning checks are a part of it (A2S3) stays light for the rest."""
    imported = {name.split(".")[0] for name in preload}
    for path, data in files.items():
        if path.endswith(".py"):
            for node in ast.walk(ast.parse(data)):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    imported.add(node.module.split(".")[0])
    imported |= {"numpy"} if "torch" in imported else set()  # Tensor.numpy(): replay.py hashes tensors' bytes
    distributions = importlib.metadata.packages_distributions()
    used = {d.lower() for name in imported for d in distributions.get(name, [])}
    return "".join(f"{r}\n" for r in dependencies(extra) if re.split(r"[<>=!~ \[]", r)[0].lower() in used)


SELFCHECK = '''"""Self-check a submission with this kit's public checks: python selfcheck.py SUBMISSION [--train]"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this kit's graders, whatever the working directory
if (Path(__file__).resolve().parent / "course").is_dir():  # a course's own pack
    os.environ["GRADERS_COURSE"] = str(Path(__file__).resolve().parent / "course")

from graders.cli import main  # noqa: E402

raise SystemExit(main(["check", *sys.argv[1:], "--assignment", "ASSIGNMENT"]))
'''


TRAIN = """
## Threshold checks: --train

    python selfcheck.py path/to/your/submission --train

also trains the model of each threshold check with your code, on this machine, with the smoke profile: small models
on data the kit generates, a few minutes on a CPU (a GPU when torch finds one), their progress on the terminal. What
it reaches is your own smoke run, a self-check and never a grade: the course autograder trains with the course's full
profile (the course's data and hyper-parameters), whose verdict may differ.
"""


def readme(kit, notes, requirements, hf=""):
    checks = "\n".join([f"- {c.title} ({points([c])})" for c in kit.included]
                       + [f"- {c.title} ({points([c])}; with --train, smoke profile)" for c in kit.trained])
    needs = ", ".join(f"`{r}`" for r in requirements.split())
    hf = (f"\nThe Hugging Face (fine-tuning) checks also need {', '.join(f'`{r}`' for r in hf.split())}, as your "
          "code does:\n\n    python -m pip install -r requirements-hf.txt\n") if hf else ""
    return f"""# Self-check kit: {kit.spec.title}

Runs the assignment's public checks on your code, on your machine, with the autograder's feedback.

Use the environment you do the assignment in (Python 3.11+ with torch). The kit needs {needs}: an installed
torch is kept, whatever its version in that range. In a virtual environment (or in your conda environment, after
`conda activate`, the same pip line):

    python3 -m venv --system-site-packages .venv   # --system-site-packages: reuse a torch installed already
    . .venv/bin/activate                             # Windows: .venv\\Scripts\\activate
    python -m pip install -r requirements.txt        # seconds when torch is there

No torch yet? Install the CPU-only build first (no multi-GB CUDA libraries), then the line above:

    python -m pip install torch --index-url https://download.pytorch.org/whl/cpu
{hf}
Then, the one command (a .py, a .ipynb, a folder or a .zip):

    python selfcheck.py path/to/your/submission

{chr(10).join(notes)}

The kit holds no reference solution: the expected values of its checks were recorded from the reference when
the kit was built, for the examples the checks draw. An input without a recorded value fails with a message
that only the course autograder can check it. A failing example is reported as found, without shrinking it.
{TRAIN if kit.trained else ""}
## Checks in this kit

{checks}
"""


def write_zip(out, files):
    """A reproducible zip: sorted entries, fixed times; scripts executable."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            info = zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if Path(path).name in ("setup.sh", "run_autograder") else 0o644) << 16
            archive.writestr(info, data)
