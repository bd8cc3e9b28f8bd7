"""Answers kept as top-level values (graders/values.py): which statements run, and which slot each keeper fills."""
import re

from graders.extract import extract
from graders.submission import Cell
from graders.values import GRADER_FILE, instrument


def loaded(cells, wanted=(), names=("m_key", "query")):
    extraction = extract(cells, list(wanted))
    return instrument(extraction.texts, extraction.statements, list(names))


def keepers(statements):
    return [re.match(r"__graders_keep__\('(\w+)', (\d+)\)", s.source).groups() for s in statements
            if s.file == GRADER_FILE and s.source.startswith("__graders_keep__")]


def test_each_rebinding_starts_an_answer_and_in_place_changes_amend_it():
    script = Cell("m_key = K.clone()\nm_key[2] = a\nprint(m_key)\nm_key = K.clone()\nm_key[2].copy_(b)\n"
                  "m_key[2] /= m_key[2].norm()\n", "A2S1.py")
    assert keepers(loaded([script])) == [("m_key", "0"), ("m_key", "0"), ("m_key", "1"), ("m_key", "1"),
                                         ("m_key", "1")]


def test_a_new_notebook_cell_starts_an_answer():
    cells = [Cell("m_key = K.clone()\nm_key[2] = a", "A2S1.ipynb cell 1"), Cell("m_key[2] = b", "A2S1.ipynb cell 2")]
    assert keepers(loaded(cells)) == [("m_key", "0"), ("m_key", "0"), ("m_key", "1")]


def test_statements_run_in_order_up_to_the_last_answer_and_chosen_code_after_it():
    cells = [Cell("import torch\nx = 1\nquery = x * 2\ntrain_forever()\n\ndef get_key141():\n    return x\n\n"
                  "def unused():\n    pass\n", "A2S1.py")]
    sources = [s.source for s in loaded(cells, wanted=["get_key141"]) if s.file != GRADER_FILE]
    assert sources == ["import torch", "x = 1", "query = x * 2", "def get_key141():\n    return x"]


def test_a_file_without_answer_values_runs_only_what_extraction_chose():
    cells = [Cell("import torch\ntrain_forever()\n\ndef problem_1():\n    return torch.zeros(3)\n", "A2S1.py")]
    statements = loaded(cells, wanted=["problem_1"])
    assert statements[0].file == GRADER_FILE and not keepers(statements)
    assert [s.source for s in statements[1:]] == ["import torch", "def problem_1():\n    return torch.zeros(3)"]


def test_names_inside_functions_are_not_answers():
    cells = [Cell("def f():\n    m_key = 1\n    return m_key\n\nclass C:\n    query = 2\n", "A2S1.py")]
    assert not keepers(loaded(cells))
