"""Extraction keeps the graded functions and what they need, and nothing that merely runs."""
from graders.extract import extract
from graders.submission import Cell

COLAB = '''\
import torch
import math
import matplotlib.pyplot as plt
DEVICE = "cpu"
data = open("missing.txt").read()

def helper(x):
    return x * SCALE

SCALE = 2

def graded(x):
    return helper(x).to(DEVICE)

def broken(x):
    assert x,
    return x

while True:
    pass

def graded(x):
    return "experiment"
'''


def names(extraction):
    return [n for s in extraction.statements for n in s.names]


def test_keeps_dependencies_in_source_order_and_drops_the_rest():
    e = extract([Cell(COLAB, "A2S2.py")], ["graded"])
    assert names(e) == ["DEVICE", "helper", "SCALE", "graded"]  # torch, math, plt: not read by graded code
    assert [s.lineno for s in e.statements] == [4, 7, 10, 12]


def test_first_definition_wins_and_is_reported():
    e = extract([Cell(COLAB, "A2S2.py")], ["graded"])
    assert "return helper(x).to(DEVICE)" in e.statements[-1].source
    assert "graded is defined 2 times (A2S2.py line 12, A2S2.py line 22); graded the first one, at A2S2.py line 12" in e.notices


def test_syntax_error_costs_only_its_function():
    e = extract([Cell(COLAB, "A2S2.py")], ["graded", "broken"])
    assert "broken" not in names(e) and "graded" in names(e)
    assert "syntax error" in e.broken["broken"] and "line 16" in e.broken["broken"]


def test_a_handout_stub_gives_way_to_the_later_implementation():
    cells = [Cell("def f(x):\n    '''TODO'''\n    raise NotImplementedError\n", "nb cell 1"),
             Cell("def f(x):\n    return x + 1\n", "nb cell 2")]
    e = extract(cells, ["f"])
    assert [s.file for s in e.statements] == ["nb cell 2"]


def test_decorators_and_conditional_definitions_come_along():
    src = "import functools\nif True:\n    K = 1\nelse:\n    K = 2\n@functools.lru_cache\ndef f():\n    return K\n"
    e = extract([Cell(src, "a.py")], ["f"])
    assert names(e) == ["functools", "K", "f"] and e.statements[-1].source.startswith("@functools")


def test_unparseable_tail_still_yields_earlier_functions():
    src = "def f():\n    return 1\n\ndef g(:\n    pass\n"
    e = extract([Cell(src, "a.py")], ["f", "g"])
    assert names(e) == ["f"] and "g" in e.broken
