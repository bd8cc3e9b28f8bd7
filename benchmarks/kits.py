"""Every assignment's student kit built, installed into a fresh environment and compared with the autograder
(issue 17, "Done when").

For each assignment: `graders package --student` builds the kit (the build grades every sample inside the kit
itself: graders/kitcheck.py); the kit is unpacked and installed as its README says, `pip install -r
requirements.txt`, into a fresh venv that already has torch (timed; the venv's growth measured; the install must
not pull torch); then, in that venv, the kit's `selfcheck.py` runs on every sample of the class while `graders
grade SAMPLE --assignment ID --visibility public` grades each here. The reference must get full marks on every
check the kit ships, and every sample the autograder's verdict and diagnosis on each of them.

    python benchmarks/kits.py [--assignment ID ...] [--sample NAME ...]

Prints a row per assignment, then what disagreed; exits 1 when a kit failed to build or install, pulled torch,
failed the reference or judged a sample unlike the autograder. tests/test_kits.py runs its steps on the seven
assignments (the reference and a known bug in the installed kit, compared with their expected.yaml).

No interpreter here has torch in its own site-packages (the project's lives in its venv, and a venv made from a
venv sees the base interpreter's packages, not the venv's), so `--system-site-packages` cannot bring torch in.
The fresh venv sees torch as it would see system site-packages: a .pth file names a folder of hard links to the torch
installed here and the distributions it requires, which pip then counts as installed, and nothing else.
"""
import argparse
import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from graders import kitcheck, packs
from graders import spec as specs
from graders.cli import KIT_HEADING
from graders.expected import Expected
from graders.package import Kit

# Runs selfcheck.py on each sample in one process of the fresh venv (torch imported once); writes {sample: report}.
# Sandbox children fork from one zygote, as in a batch (the kit's own graders.sandbox.worker).
SELFCHECK_ALL = """
import contextlib, io, json, runpy, sys
from pathlib import Path
selfcheck, out, assignment, reports = sys.argv[1], sys.argv[2], sys.argv[3], {}
sys.path.insert(0, str(Path(selfcheck).resolve().parent))
from graders import spec as specs
from graders.sandbox.worker import Zygote
with Zygote(preload=specs.get(assignment).preload):
    for sample in sys.argv[4:]:
        sys.argv = [selfcheck, sample]
        with contextlib.redirect_stdout(io.StringIO()) as report, contextlib.suppress(SystemExit):
            runpy.run_path(selfcheck, run_name="__main__")
        reports[sample] = report.getvalue()
open(out, "w").write(json.dumps(reports))
"""
# `graders grade SAMPLE --assignment ID --visibility public --out OUT/i` for each sample, in one process here.
GRADE_ALL = """
import sys
from graders import spec as specs
from graders.cli import main
from graders.sandbox.worker import Zygote
assignment, out = sys.argv[1], sys.argv[2]
with Zygote(preload=specs.get(assignment).preload):
    for i, sample in enumerate(sys.argv[3:]):
        main(["grade", sample, "--assignment", assignment, "--visibility", "public", "--out", f"{out}/{i}"])
"""
HEAD = re.compile(r"(PASS|FAIL|PENDING) \S+  (.*)")
FULL_MARKS = re.compile(r"^Score: (\S+)/\1$", re.M)


def torch_site(folder):
    """`folder` with hard links to the installed torch and every installed distribution it requires, transitively:
    what a course environment that has torch holds, and nothing more."""
    folder.mkdir(parents=True, exist_ok=True)
    seen, todo = set(), ["torch"]
    while todo:
        try:
            dist = importlib.metadata.distribution(todo.pop())
        except importlib.metadata.PackageNotFoundError:
            continue
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        for top in {f.parts[0] for f in dist.files or () if f.parts[0] != ".."}:
            if not (folder / top).exists():
                hard_link(Path(dist.locate_file(top)), folder / top)
        requirements = (Requirement(r) for r in dist.requires or ())
        todo += [r.name for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    return folder


def hard_link(source, target):
    """`target`, a file or a tree, made of hard links to `source`'s files (copies across file systems). Not symbolic
    links: the sandbox's child may read only the folders on its sys.path (docs/limits.md), and a symbolic link's file
    lies elsewhere, so a module torch or transformers imports after the child is confined would be denied."""
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, copy_function=link)
    else:
        link(source, target)


def size(folder):
    """Bytes under `folder`, links counted as links."""
    return sum(p.lstat().st_size for p in folder.rglob("*"))


def purelib(venv):
    """The venv's site-packages."""
    asked = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.run([venv / "bin" / "python", "-c", asked], capture_output=True, text=True,
                               check=True).stdout.strip())


def install(kit, venv, site):
    """A fresh venv that sees `site` (torch), then the kit's requirements in it (and its Hugging Face ones, where it
    has them), as its README says.
    (seconds, bytes added, the distributions the venv then holds)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    (purelib(venv) / "course-torch.pth").write_text(f"{site}\n")
    before, started = size(venv), time.monotonic()
    for wanted in ("requirements.txt", "requirements-hf.txt"):  # the second: a kit with Hugging Face checks
        if not (kit / wanted).exists():
            continue
        done = subprocess.run([python, "-m", "pip", "install", "-r", wanted], cwd=kit, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"pip install -r {wanted} failed: {done.stderr[-2000:]}")
    seconds = time.monotonic() - started
    return seconds, size(venv) - before, sorted(p.name for p in purelib(venv).glob("*.dist-info"))


def own_imports(samples):
    """The installed distributions that the samples' own Python files import (a handout-rule sample calls
    transformers' RoPE): a student's environment holds what their code imports, whatever the kit lists, and so does
    the venv the kit is compared in (installed after the kit's requirements, as pip would into a student's)."""
    names = set()
    for path in (p for sample in samples for p in Path(sample).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names.add(node.module.split(".")[0])
    distributions = importlib.metadata.packages_distributions()
    return {d for name in names for d in distributions.get(name, []) if d.lower() != "graders"}


def self_checks(kit, venv, assignment, samples, out):
    """selfcheck.py on every sample, in the venv, started: it writes {sample: report} to `out`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADERS_COURSE")}
    return subprocess.Popen([venv / "bin" / "python", "-c", SELFCHECK_ALL, kit / "selfcheck.py", out, assignment,
                             *samples],
                            cwd=out.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def grades(assignment, samples, out):
    """`graders grade --visibility public` on every sample, here, started: results.json of sample i in `out`/i."""
    return subprocess.Popen([sys.executable, "-c", GRADE_ALL, assignment, out, *samples], cwd=out.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def parse_report(text, spec):
    """{check name: (passed, feedback)} of a self-check report, and the lines the kit adds below it."""
    names = {f"{p.id}: {c.title}": c.name for p in spec.parts for c in p.checks}
    report, _, extra = text.partition(f"\n{KIT_HEADING}")
    checks, current = {}, None
    for line in report.splitlines():
        if head := HEAD.fullmatch(line):
            current = names[head[2]]
            checks[current] = (head[1] == "PASS", [])
        elif current and line.startswith("      "):
            checks[current][1].append(line[6:])
        else:
            current = None
    return {name: (passed, "\n".join(lines)) for name, (passed, lines) in checks.items()}, extra


def autograder_verdicts(results, spec):
    """{visible check name: (passed, diagnosis)} of a results.json; {"": ...} when the grader failed."""
    found = {}
    for test in results["tests"]:
        if test["number"] == "0":
            found[""] = (False, test["output"])
            continue
        part, check = (int(i) - 1 for i in test["number"].split("."))
        bug = next((t[5:] for t in test["tags"] if t.startswith("bug: ")), None)
        if test["visibility"] == "visible":
            found[spec.parts[part].checks[check].name] = (test["status"] == "passed", bug)
    return found


def diagnosis(feedback):
    return next((line[len("Diagnosis: "):] for line in feedback.splitlines() if line.startswith("Diagnosis: ")), None)


def disagreements(kit, autograder):
    """How a sample's kit verdicts differ from the autograder's on the checks the kit ran; [] when they agree."""
    lines = [f"the autograder's grader failed: {autograder[''][1][:200]}"] if "" in autograder else []
    for name, (passed, feedback) in kit.items():
        if name not in autograder:
            lines.append(f"{name}: the kit ran it, the autograder did not")
        elif passed != autograder[name][0]:
            lines.append(f"{name}: kit {'PASS' if passed else 'FAIL'}, autograder "
                         f"{'PASS' if autograder[name][0] else 'FAIL'}: {feedback[:200]!r}")
        elif diagnosis(feedback) != autograder[name][1]:
            lines.append(f"{name}: kit diagnosis {diagnosis(feedback)!r}, autograder {autograder[name][1]!r}")
    return lines


def build(assignment, work):
    """`graders package --student` into `work`, unpacked: the kit's folder, or RuntimeError saying why not."""
    built = subprocess.run([sys.executable, "-m", "graders", "package", "--assignment", assignment, "--student",
                            str(work / "kit.zip")], capture_output=True, text=True)
    if built.returncode:
        raise RuntimeError(f"the build failed: {built.stderr.strip()[-3000:]}")
    with zipfile.ZipFile(work / "kit.zip") as archive:
        archive.extractall(work)
    return work / f"{assignment}-self-check"


def compare(kit, assignment, samples, work, site, live=True):
    """Install the built `kit` into a fresh venv in `work` that sees `site` (torch), run its selfcheck.py there on
    `samples` and compare with `graders grade --visibility public` run here, or (not `live`) with each sample's
    expected.yaml, which tests/test_samples.py holds the autograder to: ({column: value}, problems)."""
    spec = specs.get(assignment)
    visible = [c.name for p in spec.parts for c in p.checks if c.visibility.value == "visible" and not c.job]
    kit_spec = Kit.plan(spec).spec_text()[0]
    row = {"checks": f"-/{len(visible)}", "install s": "-", "MB": "-", "agreeing": f"-/{len(samples)}"}
    try:
        seconds, grown, held = install(kit, work / "venv", site)
    except RuntimeError as e:
        return row, [str(e)]
    row |= {"install s": f"{seconds:.1f}", "MB": f"{grown / 1e6:.0f}"}
    problems = [f"the install pulled {d}" for d in held if re.match(r"(torch|nvidia)[-_]", d)]
    present = {d.name.split("-")[0].lower().replace("_", "-") for folder in (site, purelib(work / "venv"))
               for d in folder.glob("*.dist-info")}
    if own := sorted(d for d in own_imports(samples) if d.lower().replace("_", "-") not in present):
        # after the timed install, which they must not help; the versions installed here, as the other side has
        pins = [f"{d}=={importlib.metadata.version(d)}" for d in own]
        done = subprocess.run([work / "venv" / "bin" / "python", "-m", "pip", "install", *pins], capture_output=True,
                              text=True)
        if done.returncode:
            return row, problems + [f"pip install {' '.join(pins)} (the samples' own imports) failed: "
                                    f"{done.stderr[-2000:]}"]
    (work / "grades").mkdir()
    runs = {"the kit's selfcheck.py": self_checks(kit, work / "venv", assignment, samples, work / "reports.json")}
    runs |= {"graders grade": grades(assignment, samples, work / "grades")} if live else {}
    for what, run in runs.items():
        _, err = run.communicate()
        if run.returncode:
            problems.append(f"{what} failed: {err.strip()[-2000:]}")
    if any(run.returncode for run in runs.values()):
        return row, problems
    reports = json.loads((work / "reports.json").read_text())
    agreeing = 0
    for i, sample in enumerate(samples):
        kit_checks, _ = parse_report(reports[str(sample)], spec)
        if live:
            results = json.loads((work / "grades" / str(i) / "results.json").read_text())
            lines = disagreements(kit_checks, autograder_verdicts(results, spec))
        else:
            lines = kitcheck.disagreements(kit_spec, Expected.read(sample), kit_checks)
        if sample.name == "reference":
            row["checks"] = f"{len(kit_checks)}/{len(visible)}"
            lines += [f"the reference fails {n} in the kit" for n, (passed, _) in kit_checks.items() if not passed]
            lines += [] if FULL_MARKS.search(reports[str(sample)]) else ["the reference's kit score is not full marks"]
        agreeing += not lines
        problems += [f"{sample.name}: {line}" for line in lines]
    row["agreeing"] = f"{agreeing}/{len(samples)}"
    return row, problems


def measure(assignment, names, work, site):
    """One assignment's row ({column: value}) and its problems."""
    samples = [p for p, _ in kitcheck.samples(assignment) if not names or p.name in names | {"reference"}]
    started = time.monotonic()
    try:
        kit = build(assignment, work)
    except RuntimeError as e:
        return {"assignment": assignment, "checks": "-", "build s": f"{time.monotonic() - started:.0f}",
                "install s": "-", "MB": "-", "agreeing": "-"}, [str(e)]
    row = {"assignment": assignment, "build s": f"{time.monotonic() - started:.0f}"}
    found, problems = compare(kit, assignment, samples, work, site)
    return row | found, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", help="an assignment id (default: every one with samples)")
    parser.add_argument("--sample", action="append", help="only the samples of this name (the reference among them)")
    args = parser.parse_args()
    ids = args.assignment or sorted(a for a in specs.ids() if (packs.samples(a) / "reference").is_dir())
    columns = {"assignment": 20, "checks": 7, "build s": 8, "install s": 9, "MB": 5, "agreeing": 9}
    print(" ".join(f"{c:>{w}}" for c, w in columns.items()), flush=True)
    failed = []
    with tempfile.TemporaryDirectory(prefix="kits-") as tmp:
        site = torch_site(Path(tmp) / "torch-site")
        for assignment in ids:
            row, problems = measure(assignment, set(args.sample or ()), Path(tmp) / assignment, site)
            print(" ".join(f"{row[c]:>{w}}" for c, w in columns.items()), flush=True)
            failed += [f"{assignment}: {line}" for line in problems]
    print(*failed, sep="\n")
    print("every kit built, installed without torch, and agreed with the autograder" if not failed
          else f"{len(failed)} problem(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
