"""`graders package`: the Gradescope zip grades from its own source and always leaves results.json; the student kit
holds no reference code and no hidden check, and still self-checks with the autograder's verdicts and diagnoses."""
import ast
import contextlib
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from graders import kitcheck, packs, replay
from graders import package as packaging
from graders import spec as specs
from graders.cli import KIT_HEADING

ROOT = Path(__file__).resolve().parents[1]
A2 = "uw-cse447-a2"
# Runs `python -m graders check` on each sample in one process (torch imported once), then reports where every
# graders and reference module it used came from.
CHECK_ALL = """
import contextlib, io, json, runpy, sys
assignment, samples, outputs = sys.argv[1], sys.argv[2:], {}
for sample in samples:
    sys.argv = ["graders", "check", sample, "--assignment", assignment]
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        runpy.run_module("graders", run_name="__main__", alter_sys=True)
    outputs[sample] = out.getvalue()
files = {n: getattr(m, "__file__", None) for n, m in sys.modules.items() if n.split(".")[0] in ("graders", "graders_packs")}
print(json.dumps({"outputs": outputs, "files": files}))
"""


def package(assignment, kind, out):
    done = subprocess.run([sys.executable, "-m", "graders", "package", "--assignment", assignment, kind, str(out)],
                          capture_output=True, text=True, timeout=1200)  # the A2 kit grades 88 samples in it
    assert done.returncode == 0, done.stderr
    return done


# The Gradescope autograder.

@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """Gradescope's /autograder under a temporary root: the zip unpacked into source/."""
    root = tmp_path_factory.mktemp("autograder")
    package(A2, "--gradescope", root / "autograder.zip")
    with zipfile.ZipFile(root / "autograder.zip") as archive:
        archive.extractall(root / "source")
    return root


def run_autograder(root, sample, path=None, isolated=False):
    """Grade `sample` with the unpacked zip's run_autograder. The zip lies under pytest's 0700 folder, where the
    sandbox cannot use its dedicated uid: as on Gradescope (`isolated`) the script refuses to grade there, so the
    other tests try it with GRADERS_UNISOLATED=1. Returns results.json and the script's stderr."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
    shutil.copytree(sample, root / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADERS_MARKER": str(root / "marker"),
           "PATH": os.pathsep.join([str(path or Path(sys.executable).parent), os.environ["PATH"]])}
    if not isolated:
        env["GRADERS_UNISOLATED"] = "1"
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done.stderr


def test_gradescope_zip_installs_cpu_torch_and_holds_one_assignment(autograder):
    with zipfile.ZipFile(autograder / "autograder.zip") as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert {"setup.sh", "run_autograder", "pyproject.toml", f"graders_packs/uw_cse447_a2/specs/{A2}.yaml",
            "graders_packs/uw_cse447_a2/reference/a2s2.py",
            "graders_packs/uw_cse447_a2/bugs.py", "graders/sandbox/child.py"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not [n for n in names if "/specs/" in n and n != f"graders_packs/uw_cse447_a2/specs/{A2}.yaml"]
    assert not [n for n in names if "/samples/" in n]
    assert not [n for n in names if "cs224n" in n or "__pycache__" in n]
    setup = (autograder / "source" / "setup.sh").read_text()
    assert subprocess.run(["bash", "-n", str(autograder / "source" / "setup.sh")]).returncode == 0
    tested = {name: version(name).split("+")[0] for name in ("torch", "hypothesis", "transformers", "peft")}
    assert f'--index-url https://download.pytorch.org/whl/cpu "torch=={tested["torch"]}"' in setup
    assert "python3.11" in setup and ('pip" install -e "$SOURCE[hf]" "hypothesis=={hypothesis}" '  # A2S3 fine-tunes
                                      '"transformers=={transformers}" "peft=={peft}"\n').format(**tested) in setup


def test_run_autograder_grades_with_the_packaged_source(autograder):
    init = autograder / "source" / "graders" / "__init__.py"
    init.write_text(init.read_text() + "import os\nopen(os.environ['GRADERS_MARKER'], 'a').write(__file__ + '\\n')\n")
    results, _ = run_autograder(autograder, packs.samples(A2) / "reference")
    assert results["score"] == specs.get(A2).max_score and all(t["status"] == "passed" for t in results["tests"])
    assert Path((autograder / "marker").read_text().split()[0]) == init  # not the checkout's graders

    results, _ = run_autograder(autograder, packs.samples(A2) / "bug-not-scaled")  # an A2S2.py alone
    a2s2 = sum(c.points for p in specs.get(A2).parts if p.file == "A2S2.py" for c in p.checks)
    failed = {t["name"]: t["output"] for t in results["tests"] if t["status"] == "failed" and "A2S2.py" in t["tags"]}
    assert results["score"] == a2s2 - 5 and len(failed) == 3
    assert all("Diagnosis: not scaled by sqrt(n_embd / n_heads)" in output for output in failed.values())


def test_run_autograder_leaves_results_when_the_grader_cannot_start(autograder, tmp_path):
    broken = tmp_path / "bin"
    broken.mkdir()
    (broken / "python3").write_text("#!/bin/sh\nexit 3\n")
    (broken / "python3").chmod(0o755)
    results, _ = run_autograder(autograder, packs.samples(A2) / "reference", path=broken)
    assert results["score"] == 0 and "exit status 3" in results["output"] and results["tests"] == []


def test_run_autograder_refuses_to_grade_without_a_dedicated_uid(autograder):
    results, stderr = run_autograder(autograder, packs.samples(A2) / "reference", isolated=True)
    assert "--require-isolation" in (autograder / "source" / "run_autograder").read_text()
    assert "graders grade: refusing to grade (--require-isolation): " in stderr and "Fix: " in stderr
    assert results["score"] == 0 and "exit status 2" in results["output"] and results["tests"] == []


# The student kit.

@pytest.fixture
def kit(student_kit):
    return student_kit(A2)


def self_check(kit_root, assignment, samples, cwd):
    """{sample: {check name: (passed, feedback)}} from the kit alone, and the files of the modules it ran."""
    spec = specs.get(assignment)
    names = {f"{p.id}: {c.title}": c.name for p in spec.parts for c in p.checks}
    done = subprocess.run([sys.executable, "-c", CHECK_ALL, assignment, *map(str, samples)], capture_output=True,
                          text=True, timeout=600, cwd=cwd, env={**os.environ, "PYTHONPATH": str(kit_root)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    outcomes = {}
    for sample, text in report["outputs"].items():
        lines, outcomes[Path(sample)] = text.splitlines(), {}
        for i, line in enumerate(lines):
            if line.startswith(("PASS ", "FAIL ")):
                feedback = [x.strip() for x in lines[i + 1:i + 20] if x.startswith("      ")]
                outcomes[Path(sample)][names[line.split("  ", 1)[1]]] = (line.startswith("PASS"), "\n".join(feedback))
    return outcomes, report["files"]


def texts(files):
    return {name: data.decode("utf-8", "replace") for name, data in files.items()}


class Placeholders(ast.NodeTransformer):
    """Every name but the modules a file imports becomes `_`: code is the same code whatever its variables' names."""

    def __init__(self, modules):
        self.modules = modules

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(node.id if node.id in self.modules else "_", node.ctx), node)


def normalised(node, modules):
    return ast.unparse(Placeholders(modules).visit(copy.deepcopy(node)))


def imported(tree):
    return {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names}


@functools.cache
def reference_lines(path):
    """{normalised expression: where}: what each function of `path` computes (the value of each of its body's
    statements) where it calls a method or library function with arguments; a bare name, a tuple or `x.shape`
    gives nothing away."""
    tree = ast.parse(path.read_text())
    modules, found = imported(tree), {}
    for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))):
        body = fn.body if isinstance(fn, ast.FunctionDef) else [ast.Expr(fn.body)]
        for statement in body:
            value = getattr(statement, "value", None)
            value = value if isinstance(value, ast.expr) else None
            nodes = [n for n in ast.walk(value) if not isinstance(n, ast.expr_context)] if value else []
            if len(nodes) >= 6 and any(isinstance(n, ast.Call) for n in nodes) and any(
                    isinstance(n, ast.Attribute) for n in nodes):
                found[normalised(value, modules)] = f"{path.name}: {getattr(fn, 'name', 'lambda')}"
    return found, modules


@functools.cache
def shipped_expressions(text, modules):
    """Every expression of a shipped Python file, normalised, and every expression its strings spell (reproduce
    lines such as "mask = torch.tril(...)"; a format field counts as a name)."""
    tree, found = ast.parse(text), set()
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    strings += [ast.unparse(n)[2:-1] for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)]
    trees = [tree]
    for string in strings:
        for piece in re.split(r"[;\n]", re.sub(r"\{[^{}]*\}", "_", string)):
            with contextlib.suppress(SyntaxError, ValueError):
                trees.append(ast.parse(piece.strip()))
    for t in trees:
        found |= {normalised(n, modules) for n in ast.walk(t) if isinstance(n, ast.expr)}
    return found


RECORDED = re.compile(r'^KIT = "recorded"', re.M)  # trusted code a kit replays: known-bug variants


def leaks(files, assignment):
    """The reference code and hidden checks a kit's `files` ({path: bytes}) hold, one line each."""
    references = [*ROOT.glob("graders_packs/*/reference.py"), *ROOT.glob("graders_packs/*/reference/*.py"),
                  *(p for p in ROOT.glob("graders_packs/*/*.py") if RECORDED.search(p.read_text()))]
    python = {n: data.decode() for n, data in files.items() if n.endswith(".py")}
    found = []
    for path in references:
        lines, modules = reference_lines(path)
        for name, text in python.items():
            found += [f"{name} holds {where}'s {line}" for line in lines.keys() & shipped_expressions(text, frozenset(modules))
                      for where in [lines[line]]]
    spec = specs.get(assignment)
    checks = [c for p in spec.parts for c in p.checks]
    public = {w for c in checks if c.visibility.value == "visible" for w in (c.name, c.title)}
    for check in (c for c in checks if c.visibility.value != "visible"):
        for word in {check.name, check.title} - public:  # a hidden check may share a public one's title
            forms = {word.encode(), json.dumps(word)[1:-1].encode()}  # as text, and as JSON escapes it
            found += [f"{n} holds the hidden check {word!r}" for n, data in files.items() if any(f in data for f in forms)]
    return found


def test_the_leak_test_finds_reference_code_in_any_spelling():
    source = (ROOT / "graders_packs/uw_cse447_a2/reference/a2s2.py").read_text()
    lines, modules = reference_lines(ROOT / "graders_packs/uw_cse447_a2/reference/a2s2.py")
    assert "torch.tril(torch.ones(_, _, dtype=torch.bool))" in lines and "return torch.tril" in source
    assert leaks({"t.py": b"def mask(size):\n    return ~torch.tril(torch.ones(size, size, dtype=torch.bool))\n"}, A2)
    assert leaks({"t.py": b'LINE = "m = torch.tril(torch.ones({n}, {n}, dtype=torch.bool))"\n'}, A2)
    hidden = next(c for p in specs.get(A2).parts for c in p.checks if c.visibility.value != "visible")
    assert leaks({"spec.yaml": f"checks: [{hidden.title}]".encode()}, A2)
    assert not leaks({"t.py": b"def mask(n):\n    return torch.arange(n).view(-1, 1) >= torch.arange(n)\n"}, A2)


def test_kit_holds_no_reference_code(kit):
    _, files = kit
    assert leaks(files, A2) == []
    stand_ins = {n for n in files if "/reference" in n or n.endswith("uw_cse447_a2/bugs.py")}
    assert stand_ins == {"graders_packs/uw_cse447_a2/reference/__init__.py", "graders_packs/uw_cse447_a2/reference/a2s2.py",
                         "graders_packs/uw_cse447_a2/bugs.py"}
    assert all("def " not in files[n].decode() for n in stand_ins)


@pytest.mark.parametrize("assignment", sorted(packs.specs()))
def test_no_kit_holds_reference_code_or_a_hidden_check(assignment):
    """Every offering's kit, as its plan assembles it (the recording aside: it holds values and names, and the built
    kits' tests read it), spells no reference function's code and names no hidden check; its stand-ins hold none."""
    kit = packaging.Kit.plan(specs.get(assignment))
    files = {n.split("/", 1)[1]: data for n, data in packaging.kit_files(kit, {"calls": {}, "surfaces": {}}).items()}
    assert leaks(files, assignment) == []
    stand_ins = [packaging.zip_path(packaging.find(n).path, n) for n in kit.recorded]
    assert all(b"def " not in files[n] for n in stand_ins)


def test_kit_holds_no_hidden_check(kit):
    _, files = kit
    spec = specs.get(A2)
    hidden = [c for p in spec.parts for c in p.checks if c.visibility.value != "visible"]
    assert hidden
    for check in hidden:
        for word in (check.name, check.title):
            forms = {word.encode(), json.dumps(word)[1:-1].encode()}  # as text, and as JSON escapes it
            assert not [n for n, data in files.items() if any(f in data for f in forms)], f"{word!r} is in the kit"
    kit_spec = yaml.safe_load(files[f"graders_packs/uw_cse447_a2/specs/{A2}.yaml"])
    # The written answers run only in the autograder (written.py says KIT = "withheld"); A2S3's checks ship.
    assert [c["name"] for p in kit_spec["parts"] for c in p["checks"]] == [
        c.name for p in spec.parts for c in p.checks if c.visibility.value == "visible" and p.file != "answers.yaml"]
    assert not [n for n in files if n.endswith(("written_key.yaml", "reference/a2s1.py", "uw_cse447_a2/written.py"))]
    assert b"only in the course autograder" in files["README.md"]
    assert sum(c["points"] for p in kit_spec["parts"] for c in p["checks"]) == 18 + 6 + 7  # A2S2's, A2S1's, A2S3's


def report_parts(text):
    """A self-check report cut up: the lines above its checks, {check head: its block}, the lines below them, and
    what follows the kit's heading."""
    report, _, kit_lines = text.partition(f"\n{KIT_HEADING}")
    above, blocks, below, head = [], {}, [], None
    for line in report.splitlines():
        if line.startswith(("PASS ", "FAIL ", "PENDING ")):
            head = line.split("  ", 1)[1]
            blocks[head] = [line]
        elif head and line.startswith("      "):
            blocks[head].append(line)
        else:
            (below if blocks else above).append(line)
            head = None
    return above, blocks, below, kit_lines


@pytest.fixture
def shared_kit(kit):
    """The kit unpacked where other users may enter, as this checkout is: under pytest's 0700 folder the sandbox could
    not run student code as its dedicated uid (as root), and the kit's report would say so."""
    _, files = kit
    with tempfile.TemporaryDirectory(prefix="graders-kit-") as folder:
        Path(folder).chmod(0o755)
        root = Path(folder) / f"{A2}-self-check"
        for path, data in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
        yield root, files


def test_graders_check_and_the_kit_print_the_same_report(shared_kit, tmp_path):
    """Issue 17 item 7, same words: for one file, `graders check` here and the kit's selfcheck.py print the same
    report on the checks both run: verdicts, examples, diagnoses, reproduce lines. The softmax bug passes the
    explicit examples and fails drawn ones, so the words are the same only where both draw the same examples. The kit
    runs fewer checks (the written answers' stay in the autograder), which only its notes on those files and its
    score show; its own lines come after the report, under their heading, and name those checks."""
    root, files = shared_kit
    spec = specs.get(A2)
    kit_spec = yaml.safe_load(files[f"graders_packs/uw_cse447_a2/specs/{A2}.yaml"])
    shipped = {f"{p['id']}: {c['title']}" for p in kit_spec["parts"] for c in p["checks"]}
    public = {f"{p.id}: {c.title}": c for p in spec.parts for c in p.checks if c.visibility.value == "visible"
              and not c.job}
    elsewhere = {f.name for f in spec.files} - {f["name"] for f in kit_spec["files"]}  # answers.yaml
    plain = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADERS_COURSE")}
    for name in ("correct-einsum", "bug-softmax-no-max-subtraction"):
        sample = packs.samples(A2) / name
        here = subprocess.run([sys.executable, "-m", "graders", "check", sample, "--assignment", A2],
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
        there = subprocess.run([sys.executable, root / "selfcheck.py", sample], capture_output=True, text=True,
                               timeout=300, cwd=tmp_path, env=plain)
        assert here.returncode == 0 and there.returncode == 0, here.stderr + there.stderr
        above, blocks, below, none = report_parts(here.stdout)
        kit_above, kit_blocks, kit_below, kit_lines = report_parts(there.stdout)
        assert set(blocks) == set(public) and set(kit_blocks) == shipped and not none
        assert kit_blocks == {head: block for head, block in blocks.items() if head in shipped}, name
        assert kit_above == [line for line in above if not any(f"{file} was not" in line for file in elsewhere)]
        assert kit_below[1:] == below[1:] and kit_below[0].startswith("Score: ")  # the score counts what ran
        assert all(public[head].title in kit_lines for head in set(public) - shipped)
    drawn = [line for block in kit_blocks.values() for line in block if line.startswith("      Input: ")]
    assert any("seed" in line and "seed 0," not in line for line in drawn), "the bug fails no drawn example"


def test_kit_says_when_an_input_was_not_recorded(kit, tmp_path):
    root, _ = kit
    copy = shutil.copytree(root, tmp_path / "kit")
    recording = replay.load((copy / "graders" / "recording.grd").read_bytes())
    recording["calls"] = {k: v for k, v in recording["calls"].items()
                          if not k.startswith("graders_packs.uw_cse447_a2.reference.a2s2.attn_softmax:")}
    (copy / "graders" / "recording.grd").write_bytes(replay.save(recording))
    sample = packs.samples(A2) / "reference"
    outcomes, _ = self_check(copy, A2, [sample], tmp_path)
    passed, feedback = outcomes[sample].pop("test_attn_softmax")
    assert not passed and "only the course autograder can check it" in feedback
    assert all(passed for passed, _ in outcomes[sample].values())


def test_a_kit_says_which_checks_stay_in_the_autograder_and_why():
    """The Perceiver checks run the reference around the student's own weights: no recording can hold those, so the
    2023 kit leaves them out and its notes say so, with the reason the module gives."""
    kit = packaging.Kit.plan(specs.get("cs224n-a5-2023"))
    assert {c.name for c in kit.autograder_only} == {"test_down_project_matches", "test_down_project_causal",
                                                     "test_up_project_matches"}
    [line] = [n for n in kit.notes() if "only in the course autograder" in n]
    assert "weights taken from your own module" in line and "DownProjectBlock: C queries the input" in line


def test_a_kit_whose_recording_is_broken_is_not_written(kit, tmp_path, monkeypatch, capsys):
    """The build grades the samples inside the kit: a recording that lost a function's calls (as a busy machine once
    made) fails the build, naming the sample and the check, and writes no zip."""
    _, files = kit
    top = f"{A2}-self-check"
    recording = replay.load(files["graders/recording.grd"])
    recording["calls"] = {k: v for k, v in recording["calls"].items()
                          if not k.startswith("graders_packs.uw_cse447_a2.reference.a2s2.attn_softmax:")}
    broken = {f"{top}/{name}": data for name, data in files.items()} | {
        f"{top}/graders/recording.grd": replay.save(recording)}
    monkeypatch.setattr(packaging, "student_kit", lambda spec: (broken, []))
    every = kitcheck.samples(A2)
    monkeypatch.setattr(kitcheck, "samples", lambda _: [s for s in every if s[0].name in ("reference", "bug-not-scaled")])
    out = tmp_path / "kit.zip"
    args = types.SimpleNamespace(gradescope=None, student=out)
    assert packaging.main(args, specs.get(A2)) == 1 and not out.exists()
    said = capsys.readouterr().err
    assert "the kit grades unlike the autograder" in said and "reference: test_attn_softmax should pass" in said
    assert "bug-not-scaled: test_attn_softmax should pass" in said and "test_attn_scaled" not in said


def test_kit_ships_only_what_its_checks_import(kit):
    """Light install: the engine's modules the self-check imports, not Slurm, the reports or the packaging code;
    requirements with the engine's ranges (torch unpinned) and none of the libraries it skips. Hugging Face's, which
    only A2S3's checks need, are listed apart."""
    _, files = kit
    engine = {n for n in files if n.startswith("graders/")}
    assert {"graders/cli.py", "graders/grade.py", "graders/replay.py", "graders/sandbox/child.py",
            "graders/sandbox/zygote.py", "graders/pytest.ini", "graders/checks/compare.py",
            "graders/checks/hf/tiny_hub.py"} <= engine
    assert not [n for n in engine if n.startswith(("graders/runners/", "graders/report/"))
                or n in ("graders/batch.py", "graders/package.py", "graders/record.py", "graders/scaffold.py")]
    assert [re.split("[<>=]", r)[0] for r in files["requirements-hf.txt"].decode().split()] == ["transformers", "peft"]
    needs = files["requirements.txt"].decode().split()
    assert "torch>=2.1" in needs and not [r for r in needs if "==" in r]
    # rich: the command line the kit runs draws training progress with it (graders/cli.py, graders/training.py)
    assert {r.split(">")[0].split("<")[0] for r in needs} == {"torch", "numpy", "pytest", "hypothesis", "pydantic",
                                                               "pyyaml", "nbformat", "rich"}
    readme = files["README.md"].decode()
    assert "venv --system-site-packages" in readme and "download.pytorch.org/whl/cpu" in readme
    assert "pip install -r requirements-hf.txt" in readme
    assert "python selfcheck.py path/to/your/submission" in readme


def test_hw6_kit_replays_its_reference_in_plain_data(student_kit):
    """hw6's checks call the reference with hub names, ids and tensors: the kit ships 11 of the 12 public checks (the
    build graded every sample inside it), holds no reference code, and lists transformers and peft (which the sandbox
    imports before the student's code) apart; only the LoRA training check stays in the autograder, and the README
    says why."""
    assignment = "jhu-cs601-hw6"
    _, files = student_kit(assignment)
    assert leaks(files, assignment) == []
    assert "def " not in files["graders_packs/jhu_cs601_hw6/reference.py"].decode()
    assert [re.split("[<>=]", r)[0] for r in files["requirements-hf.txt"].decode().split()] == ["transformers", "peft"]
    assert "transformers" not in files["requirements.txt"].decode()
    readme = files["README.md"].decode()
    plan = packaging.Kit.plan(specs.get(assignment))
    assert [c.name for c in plan.autograder_only] == ["test_lora_trainable"] and len(plan.included) == 11
    assert "runs 11 of the assignment's 15 checks" in readme and plan.autograder_only[0].title in readme
