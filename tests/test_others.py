"""A hand-in's Python files that the spec does not name (graders/others.py): loaded under their own names, each
after the files it imports, never under a name that would hide a library, and never run as scripts."""
from graders import spec as specs
from graders.others import collect, ordered
from graders.submission import collect as intake


def module(name, source, aliases=()):
    return {"name": name, "file": f"{name}.py", "statements": [{"source": source}], "aliases": list(aliases)}


def test_each_module_loads_after_the_ones_it_imports():
    mods = [module("transformer", "from attention import Head"), module("classifier", "from transformer import *"),
            module("attention", "import torch"), module("main", "import classifier, transformer")]
    assert [m["name"] for m in ordered(mods)] == ["attention", "transformer", "classifier", "main"]


def test_an_import_cycle_keeps_the_hand_in_order_and_aliases_count_as_names():
    mods = [module("a", "from b import x"), module("b", "from .a import y")]
    assert [m["name"] for m in ordered(mods)] == ["a", "b"]
    mods = [module("main", "from model import Encoder"), module("transformer", "import torch", aliases=["model"])]
    assert [m["name"] for m in ordered(mods)] == ["transformer", "main"]


def test_other_files_are_found_extracted_and_never_take_a_library_name(tmp_path):
    spec = specs.get("ucsd-cse256-pa2")
    (tmp_path / "transformer.py").write_text("import torch\nclass Block(torch.nn.Module):\n    pass\n")
    (tmp_path / "classifier.py").write_text("from transformer import Block\nclass Classifier(Block):\n    pass\n"
                                            "print('trained')\n")
    (tmp_path / "main.py").write_text("import classifier\nif __name__ == '__main__':\n    classifier.main()\n")
    (tmp_path / "torch.py").write_text("x = 1\n")
    (tmp_path / "my-utils.py").write_text("x = 1\n")
    got = intake(tmp_path, [f.name for f in spec.files], tmp_path / "work")
    others, notices = collect(got, spec, spec.source("transformer.py"))
    assert [(o.module, o.extraction.classes) for o in others] == [("classifier", ["Classifier"]), ("main", [])]
    assert [s.lineno for s in others[0].extraction.statements] == [1, 2]  # the print never runs
    assert others[1].extraction.statements == []
    assert sorted(n.split(" ")[0] for n in notices) == ["my-utils.py", "torch.py"]
