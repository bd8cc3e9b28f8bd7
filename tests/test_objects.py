"""Objects that live in the sandbox (a Dataset, an nn.Module): built by calling a student's class, used
through a handle, drawn from in batches with one seed per call; files that import each other; input files."""
import types
from dataclasses import asdict

import pytest
import torch

from graders.extract import extract
from graders.problems import InterfaceError, StudentError
from graders.sandbox.session import Session, StudentModule
from graders.sandbox.worker import Limits
from graders.submission import Cell, SourceFile

DATASET = """import random
import torch
class Draws:
    def __init__(self, n):
        self.n = n
    def __getitem__(self, i):
        if i < 0:
            raise IndexError(f"no item {i}")
        return torch.tensor([i, random.randint(0, 10**9)])
"""


@pytest.fixture
def session():
    sessions = []

    def make(files):
        """files: [(module, file name, code, functions, classes)], loaded in order."""
        modules, texts, proxies = [], {}, {}
        s = Session(modules, texts, Limits(call_seconds=5))
        for module, name, code, functions, classes in files:
            e = extract([Cell(code, name)], functions + classes)
            modules.append({"name": module, "file": name, "statements": [asdict(s) for s in e.statements]})
            texts.update(e.texts)
            proxies[module] = StudentModule(s, module, SourceFile(name), e, classes)
        sessions.append(s.start())
        return s, proxies
    yield make
    for s in sessions:
        s.close()


def test_a_class_call_keeps_the_object_and_its_methods_run_there(session):
    """Only names the spec lists as classes build objects: a function by that name is an interface error."""
    _, mods = session([("dataset", "dataset.py", DATASET, [], ["Draws"])])
    ds = mods["dataset"].Draws(5)
    x = ds[3]
    assert type(x) is torch.Tensor and x[0] == 3
    assert torch.equal(ds[3], x)  # every call is seeded the same way
    _, mods = session([("dataset", "dataset.py", "def Draws(n):\n    return n\n", [], ["Draws"])])
    with pytest.raises(InterfaceError, match="Draws in dataset.py is a function, not a class"):
        mods["dataset"].Draws(5)


def test_draws_seed_each_call_and_name_the_one_that_failed(session):
    _, mods = session([("dataset", "dataset.py", DATASET, [], ["Draws"])])
    ds = mods["dataset"].Draws(5)
    got = ds.draws("__getitem__", [((1,), 7), ((1,), 8), ((1,), 7)])
    assert torch.equal(got[0], got[2]) and not torch.equal(got[0], got[1])
    assert ds.draws("__getitem__", []) == []
    with pytest.raises(StudentError, match=r"Draws.__getitem__ raised IndexError: no item -1") as e:
        ds.draws("__getitem__", [((1,), 0), ((-1,), 0)])
    assert e.value.call_index == 1


def test_a_handle_from_a_crashed_child_is_not_reused(session):
    s, mods = session([("dataset", "dataset.py", DATASET + "import os\ndef die():\n    os._exit(3)\n", ["die"], ["Draws"])])
    ds = mods["dataset"].Draws(5)
    with pytest.raises(StudentError):
        mods["dataset"].die()
    s.begin_check()
    with pytest.raises(StudentError, match="lost when the sandbox restarted"):
        ds[1]


def test_a_config_travels_as_a_namespace_and_modules_import_each_other(session):
    attention = "import torch\nclass Scale(torch.nn.Module):\n    def __init__(self, config):\n        super().__init__()\n" \
                "        self.w = torch.nn.Parameter(torch.ones(config.n))\n    def forward(self, x):\n" \
                "        return x * self.w\n"
    model = "from .attention import Scale\nimport attention\nclass Both:\n    def __init__(self, config):\n" \
            "        self.a, self.b = Scale(config), attention.Scale(config)\n    def out(self, x):\n" \
            "        return self.a(x) + self.b(x)\n"
    _, mods = session([("attention", "attention.py", attention, [], ["Scale"]),
                       ("model", "model.py", model, [], ["Both"])])
    m = mods["attention"].Scale(types.SimpleNamespace(n=3))
    m.load_state_dict({"w": torch.full((3,), 2.0)})
    assert torch.equal(m(torch.ones(3)), torch.full((3,), 2.0))
    assert set(m.state_dict()) == {"w"}  # an OrderedDict comes back as a dict
    assert torch.equal(mods["model"].Both(types.SimpleNamespace(n=2)).out(torch.ones(2)), torch.full((2,), 2.0))


def test_input_files_are_written_for_the_student_to_read(session):
    s, mods = session([("lb", "lb.py", "def main():\n    return open('dev.tsv').read()\n", ["main"], [])])
    s.write({"dev.tsv": "a\tLondon\n"})
    assert mods["lb"].main() == "a\tLondon\n"
    with pytest.raises(RuntimeError, match="bad name"):
        s.write({"../x": ""})
