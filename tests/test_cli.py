"""The command line contract of docs/architecture.md: list, grade (exit codes, results.json), check, schema."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import read_results

from graders import packs
from graders import spec as specs

REFERENCE = packs.samples("uw-cse447-a2") / "reference"
GRADESCOPE_TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "output_format", "visibility", "tags"}


def graders(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "graders", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_list_gives_id_tab_title():
    out = graders("list")
    assert out.returncode == 0
    assert "uw-cse447-a2\tUW CSE 447/517 A2: attention by hand (§1), causal multi-head self-attention from scratch (§2.1), fine-tuning (§3)" in out.stdout.splitlines()


def test_grade_writes_gradescope_results(tmp_path):
    out = graders("grade", REFERENCE, "--assignment", "uw-cse447-a2", "--out", tmp_path)
    assert out.returncode == 0, out.stderr
    results = read_results(tmp_path)
    spec = specs.get("uw-cse447-a2")
    total = spec.max_score
    assert results["score"] == total and {"execution_time", "output", "visibility", "extra_data"} <= set(results)
    files = [p.file for p in spec.parts for _ in p.checks]
    assert len(results["tests"]) == len(files)
    for test, file in zip(results["tests"], files, strict=True):  # each tagged with the file it grades
        assert set(test) == GRADESCOPE_TEST_KEYS and file in test["tags"] and test["status"] == "passed"
    assert results["extra_data"]["environment"]["torch"].startswith("2.")
    assert f"Score: {total:g}/{total:g}" in out.stdout


@pytest.mark.parametrize("args,message", [
    (["grade", REFERENCE, "--assignment", "nope", "--out", "x"], "unknown assignment 'nope'"),
    (["grade", "/no/such/file.py", "--assignment", "uw-cse447-a2", "--out", "x"], "does not exist"),
    (["grade", REFERENCE, "--assignment", "uw-cse447-a2"], "--out"),
])
def test_usage_errors_exit_2(args, message):
    out = graders(*args)
    assert out.returncode == 2 and message in out.stderr


def test_a_grader_failure_exits_1_and_still_writes_results(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    text = (packs.spec_path("uw-cse447-a2")).read_text()
    (specs / "uw-cse447-a2.yaml").write_text(text + "checks: graders_packs.missing\n")
    env = {**__import__("os").environ, "GRADERS_SPECS": str(specs)}
    out = graders("grade", REFERENCE, "--assignment", "uw-cse447-a2", "--out", tmp_path / "out", env=env)
    assert out.returncode == 1
    results = read_results(tmp_path / "out")
    assert results["score"] == 0 and results["tests"][-1]["status"] == "failed"
    assert "The grader failed" in results["tests"][-1]["output"] and "graders_packs.missing" in results["tests"][-1]["output"]


def test_assignment_help_lists_the_ids():
    for command in ("grade", "check", "batch", "package"):
        out = graders(command, "--help")
        assert out.returncode == 0 and out.stdout.split("assignment ids:\n")[1].split() == specs.ids()


def test_piped_output_does_not_break_paths(tmp_path):
    folder = tmp_path / ("a-class-folder-with-a-name-long-enough-to-pass-eighty-columns-" * 2)
    folder.mkdir()
    out = graders("batch", folder, "--assignment", "uw-cse447-a2", "--out", tmp_path / "out")
    assert out.returncode == 2 and f"graders batch: {folder} holds no submissions (files .py, .ipynb, .zip or folders)\n" in out.stderr


def test_self_check_runs_public_checks_only():
    out = graders("check", REFERENCE, "--assignment", "uw-cse447-a2")
    assert out.returncode == 0
    public = sum(c.points for p in specs.get("uw-cse447-a2").parts for c in p.checks if c.visibility == "visible")
    assert f"Score: {public:g}/{public:g}" in out.stdout and "causality" not in out.stdout
    assert "hidden checks" in out.stdout


def test_schema_is_json_schema_of_a_spec(tmp_path):
    out = graders("schema", "--out", tmp_path / "schema.json")
    schema = json.loads((tmp_path / "schema.json").read_text())
    assert out.returncode == 0 and schema["title"] == "Assignment" and "parts" in schema["properties"]


# Safe by default: student code never runs as root without the terminal saying so first.

def locked(tmp_path):
    """The environment of a grader imported through a folder other users cannot enter (a link to this checkout's
    graders inside a 0700 folder): what the sandbox's own check sees when Python lies under /root (pyenv). Run it
    from elsewhere than the checkout, whose graders `python -m` would import first."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o700)
    (folder / "graders").symlink_to(Path(specs.__file__).parent)
    return {**os.environ, "PYTHONPATH": str(folder)}


@pytest.mark.skipif(os.geteuid() != 0, reason="the warning is for a grader run as root")
@pytest.mark.parametrize("command", ["grade", "batch"])
def test_root_without_a_dedicated_uid_warns_on_the_terminal_before_grading(tmp_path, command):
    empty = tmp_path / "class"
    empty.mkdir()
    out = graders(command, empty, "--assignment", "uw-cse447-a2", "--out", tmp_path / "out", env=locked(tmp_path),
                  cwd=tmp_path)
    first = out.stderr.splitlines()[0]
    assert first.startswith(f"graders {command}: WARNING: student code will run as root: ")
    assert "is not accessible to other users, so a dedicated uid could not run Python" in first  # the first such folder
    assert "Fix: " in first and "chmod -R o+rX" in first and "--require-isolation" in first
    if command == "grade":  # and then it grades
        assert out.returncode == 0 and (tmp_path / "out" / "results.json").exists() and "Score: 0/" in out.stdout


@pytest.mark.parametrize("command", ["grade", "batch"])
def test_require_isolation_refuses_to_grade_without_a_dedicated_uid(tmp_path, command):
    out = graders(command, REFERENCE.parent, "--assignment", "uw-cse447-a2", "--out", tmp_path / "out",
                  "--require-isolation", env=locked(tmp_path), cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith(f"graders {command}: refusing to grade (--require-isolation): ")
    assert "Fix: " in out.stderr and not (tmp_path / "out").exists()
