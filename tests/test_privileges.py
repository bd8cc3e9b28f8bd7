"""The sandbox's protections hold both when the grader runs as root (each child then also gets a dedicated
uid) and when it runs as a normal user, as on a student's laptop: the confinement tests are run as both,
where this machine allows it, and must have the same outcomes."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders.sandbox.worker import unreachable_by_others

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534


def passed_confinement_tests(tmp_path, as_nobody):
    """Run tests/test_confinement.py in a fresh process, as root or as nobody; the names of those that passed."""
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if as_nobody else []
    home = tmp_path / ("nobody" if as_nobody else "root")
    home.mkdir()
    os.chmod(home, 0o777)
    run = subprocess.run([*prefix, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-q",
                          f"--basetemp={home / 'pytest'}", "tests/test_confinement.py"],
                         cwd=ROOT, env={**os.environ, "HOME": str(home)}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return set(re.findall(r"^PASSED \S*::(\w+)", run.stdout, re.M))


def test_protections_hold_as_root_and_as_a_normal_user(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run the same tests as a normal user")
    blocked = unreachable_by_others()
    if blocked:
        pytest.skip(f"{blocked} is not accessible to other users, so no other uid can run this Python")
    os.chmod(tmp_path, 0o755)
    as_root = passed_confinement_tests(tmp_path, as_nobody=False)
    as_user = passed_confinement_tests(tmp_path, as_nobody=True)
    assert as_root == as_user and len(as_root) >= 8
