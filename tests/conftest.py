import json
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
