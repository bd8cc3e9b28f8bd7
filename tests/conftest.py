import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"


@pytest.fixture(scope="session")
def a2_spec():
    from graders import spec

    return spec.get("uw-cse447-a2")


def read_results(out_dir):
    return json.loads((Path(out_dir) / "results.json").read_text())
