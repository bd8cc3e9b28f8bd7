import json
import subprocess
import sys
from pathlib import Path

import pytest

from graders.runners import minislurm

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"


@pytest.fixture(scope="session")
def a2_spec():
    from graders import spec

    return spec.get("uw-cse447-a2")


def read_results(out_dir):
    return json.loads((Path(out_dir) / "results.json").read_text())


def grade_cli(submission, assignment, out, *extra, timeout=900):
    """`graders grade` in a fresh process, as course staff run it: its results.json (the exit status 0 asserted)."""
    run = subprocess.run([sys.executable, "-m", "graders", "grade", str(submission), "--assignment", assignment,
                          "--out", str(out), *extra], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr[-3000:]
    return read_results(out)


@pytest.fixture(scope="session")
def slurm_cluster():
    why = minislurm.missing()
    if why:
        pytest.skip(why)
    cluster = minislurm.MiniSlurm().start()
    yield cluster
    leftovers = cluster.stop()
    assert not leftovers, f"processes of the test cluster outlived it (killed now): {leftovers}"


@pytest.fixture
def slurm(slurm_cluster, monkeypatch):
    """The cluster, with SLURM_CONF set for submitit's sbatch/squeue/scancel in this test."""
    for name, value in slurm_cluster.env.items():
        monkeypatch.setenv(name, value)
    return slurm_cluster
