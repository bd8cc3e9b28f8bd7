"""The student kit's threshold checks (issue 17, item 6): `selfcheck.py SUBMISSION --train` trains the assignment's
smoke job on the student's machine from the unpacked kit alone, passes the reference, fails a leaking attention, and
says that the course autograder runs the full profile; without --train the kit says the checks exist and how to run
them. hw5's kit: one job, the cheapest to train."""
import os
import subprocess
import sys

import pytest
from test_package import leaks

from graders import package as packaging
from graders import packs
from graders import spec as specs

HW5 = "jhu-cs601-hw5"
SAMPLES = packs.samples(HW5)
TITLE = next(c.title for p in specs.get(HW5).parts for c in p.checks if c.job)
SMOKE = "trained here with the smoke profile"
FULL = "the course autograder trains with the course's full profile"


@pytest.fixture
def kit(student_kit):
    """The built hw5 kit, unpacked: its folder and {path in the kit: bytes}."""
    return student_kit(HW5)


def self_check(kit_root, sample, cwd, *extra):
    """`python selfcheck.py SAMPLE` as a student runs it: a clean process in another folder, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADERS_COURSE", "GRADERS_SECRET")}
    done = subprocess.run([sys.executable, str(kit_root / "selfcheck.py"), str(sample), *extra], capture_output=True,
                          text=True, timeout=900, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def line_of(out, title):
    return next((line for line in out.splitlines() if line.endswith(title)), None)


def test_kit_trains_the_reference_to_the_threshold(kit, tmp_path):
    root, _ = kit
    done = self_check(root, SAMPLES / "reference", tmp_path, "--train")
    assert line_of(done.stdout, TITLE).startswith("PASS 2/2"), done.stdout
    assert ": reached (local " in done.stdout and "smoke profile" in done.stdout
    assert SMOKE in done.stdout and FULL in done.stdout and "not a grade" in done.stdout
    assert "training" in done.stderr  # the jobs' progress, as `graders grade` shows it


def test_kit_fails_a_leaking_attention_on_the_threshold(kit, tmp_path):
    """bug-mask-not-applied drops its mask: trained fully it reaches the perplexity, and the causality probe on the
    trained model fails it (tests/test_gpt_lm.py)."""
    root, _ = kit
    done = self_check(root, SAMPLES / "bug-mask-not-applied", tmp_path, "--train")
    line = line_of(done.stdout, TITLE)
    assert line.startswith("FAIL 0/2"), done.stdout
    after = done.stdout.split(line, 1)[1]
    assert "attention sees the future" in after.splitlines()[1], after
    assert SMOKE in done.stdout and FULL in done.stdout


def test_kit_without_train_says_how_to_run_the_threshold_checks(kit, tmp_path):
    root, files = kit
    done = self_check(root, SAMPLES / "reference", tmp_path)
    assert line_of(done.stdout, TITLE) is None and "training" not in done.stderr
    assert "Threshold checks not run" in done.stdout and "add --train" in done.stdout and FULL in done.stdout
    readme = files["README.md"].decode()
    assert "python selfcheck.py path/to/your/submission --train" in readme and "full\nprofile" in readme
    assert f"{TITLE} (2 points; with --train, smoke profile)" in readme


def test_kit_ships_the_job_code_and_the_local_runner_only(kit):
    """The kit trains with the jobs' code and the local runner: no Slurm runner, no submitit, requirements that
    grow by nothing the kit does not import, and no reference code in the job's files."""
    _, files = kit
    assert {"graders/thresholds.py", "graders/jobs.py", "graders/runners/local.py", "graders/runners/_job.py",
            "graders/checks/job_weights.py", "graders_packs/jhu_cs601_hw5/lm.py",
            "graders_packs/jhu_cs601_hw5/jobs/gpt_lm.py", "graders_packs/cs224n/jobs/birthplace.py"} <= set(files)
    assert "graders/runners/slurm.py" not in files and not [n for n in files if n.startswith("graders/report/")]
    assert not [n for n, data in files.items() if n.endswith(".py") and b"import submitit" in data]
    needs = {r.split(">")[0].split("<")[0] for r in files["requirements.txt"].decode().split()}
    assert needs == {"torch", "numpy", "pytest", "hypothesis", "pydantic", "pyyaml", "nbformat", "rich"}
    assert leaks(files, HW5) == []


def test_a_kit_that_trains_collects_every_file_its_job_loads():
    """A4's birthplace job imports the student's attention.py, whose own checks the kit withholds: the kit's spec
    still collects it (without it the job died with "No module named 'attention'")."""
    spec = packaging.Kit.plan(specs.get("cs224n-a4-2024")).spec_text()[0]
    assert {"dataset.py", "attention.py"} <= {f.name for f in spec.files} and list(spec.jobs) == ["birthplace"]


def test_module_checks_ship_with_the_reference_replayed(kit, tmp_path):
    """hw5's checks compare with a reference nn.Module and name bugs from variants of it: the kit runs them through
    stand-ins of the oracle, the reference and the variants, which hold names and recordings, no code; the
    reference passes them and a known bug is named in the kit."""
    root, files = kit
    stand_ins = {"graders/checks/oracle.py", "graders_packs/jhu_cs601_hw5/bugs.py",
                 "graders_packs/jhu_cs601_hw5/reference.py"}
    assert stand_ins <= set(files) and all(b"def " not in files[n] for n in stand_ins)
    readme = files["README.md"].decode()
    forward = next(c.title for p in specs.get(HW5).parts for c in p.checks if c.name == "test_forward")
    assert forward in readme and "only in the course autograder" not in readme
    assert line_of(self_check(root, SAMPLES / "reference", tmp_path).stdout, forward).startswith("PASS")
    out = self_check(root, SAMPLES / "bug-kt-q", tmp_path).stdout
    assert line_of(out, forward).startswith("FAIL") and "kᵀq" in out
