"""The engine and the built-in packs as a user installs them: a real wheel in a fresh virtual environment (not
editable, nothing read from this checkout), listing every offering and grading each assignment's reference sample
as the editable install does (the grade its expected.yaml names, which tests/test_samples.py asserts here)."""
import importlib.util
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from graders import expected, packs, verify
from graders import spec as specs

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".git", ".tox", ".venv", "build", "dist", "reports", "__pycache__", ".pytest_cache", ".ruff_cache"}


def run(*args, **kwargs):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel built from a copy of this checkout; its dependencies (torch, ...) are this
    environment's, reached through a .pth file, so nothing is downloaded."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = shutil.copytree(ROOT, tmp / "source", symlinks=True, ignore=lambda d, names: [n for n in names if n in SKIP
                                                                            or n.endswith(".egg-info")])
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []  # else from the registry
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", tmp / "dist", source)
    wheel = next((tmp / "dist").glob("graders-*.whl"))
    run(sys.executable, "-m", "venv", tmp / "venv")
    python = tmp / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_dependencies.pth").write_text("\n".join(paths) + "\n")
    return python, site, wheel


def test_the_wheel_holds_the_engine_and_the_packs_and_no_top_level_reference(installed):
    python, site, wheel = installed
    where = run(python, "-c", "import graders, graders_packs, importlib.util; print(graders.__file__); "
                              "print(graders_packs.__file__); print(importlib.util.find_spec('reference'))",
                cwd=site.parent).stdout
    engine, course, reference = where.splitlines()
    assert Path(engine).is_relative_to(site) and Path(course).is_relative_to(site), where
    assert reference == "None", "a top-level `reference` package is installed"
    listed = run(python, "-m", "graders", "list", cwd=site.parent).stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == sorted(packs.specs())


@pytest.mark.parametrize("assignment", [a for a in sorted(packs.specs()) if verify.base_of(a) is None])
def test_each_assignment_grades_from_the_wheel_as_its_expected_yaml_says(installed, assignment, tmp_path):
    python, site, _ = installed
    sample = Path(run(python, "-c", f"from graders import packs; print(packs.samples({assignment!r}))",
                      cwd=tmp_path).stdout.strip()) / "reference"
    assert sample.is_relative_to(site), "the sample came from the checkout, not the wheel"
    run(python, "-m", "graders", "grade", sample, "--assignment", assignment, "--out", tmp_path / "out",
        "--profile", "full", cwd=tmp_path)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert expected.disagreements(specs.get(assignment), expected.Expected.read(sample), results) == []
