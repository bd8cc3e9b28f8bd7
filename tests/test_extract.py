"""Extraction keeps the graded functions and what they need, and nothing that merely runs."""
from graders.extract import extract
from graders.sections import numbered
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
"""## 2.2 Experiments"""
def graded(x):
    return "experiment"
'''


def heading(line, title):
    return numbered(title, line)


def names(extraction):
    return [n for s in extraction.statements for n in s.names]


def test_keeps_dependencies_in_source_order_and_drops_the_rest():
    e = extract([Cell(COLAB, "A2S2.py")], ["graded"])
    assert names(e) == ["DEVICE", "helper", "SCALE", "graded"]  # torch, math, plt: not read by graded code
    assert [s.lineno for s in e.statements] == [4, 7, 10, 12]


def test_a_redefinition_in_a_later_section_is_an_ignored_experiment():
    e = extract([Cell(COLAB, "A2S2.py")], ["graded"])
    assert "return helper(x).to(DEVICE)" in e.statements[-1].source
    note = "graded is redefined in a later section (A2S2.py line 22, '2.2 Experiments'); that experiment is ignored"
    assert e.notes == {"graded": note} and note in e.notices


def test_a_later_cell_of_the_same_section_fixes_the_definition():
    cells = [Cell("def f(x):\n    return x\n", "nb cell 2", [heading(0, "2.1 Attention")]),
             Cell("def f(x):\n    return x + 1\n", "nb cell 4"),
             Cell("def f(x):\n    return 0\n", "nb cell 6", [heading(0, "2.2 Training")])]
    e = extract(cells, ["f"])
    assert [s.file for s in e.statements] == ["nb cell 4"]
    assert e.notes["f"] == ("f was defined again in the same section (nb cell 4 line 1); the later definition is "
                            "graded, as running it top to bottom leaves it; f is redefined in a later section "
                            "(nb cell 6 line 1, '2.2 Training'); that experiment is ignored")


def test_sub_sections_belong_to_their_section():
    src = ("# ## 2.1.1 Scores\ndef f():\n    return 1\n# ## 2.1.2 Mask\ndef f():\n    return 2\n"
           "# ## 2.2 GPT\ndef f():\n    return 3\n")
    e = extract([Cell(src, "A2S2.py")], ["f"])
    assert [s.lineno for s in e.statements] == [5] and "'2.2 GPT'" in e.notes["f"]


def test_a_file_without_numbered_sections_keeps_its_last_definition():
    src = "# In[1]:\n\ndef f():\n    return 1\n\n# In[2]:\n\ndef f():\n    return 2\n"
    e = extract([Cell(src, "A2S2.py")], ["f"])
    assert [s.lineno for s in e.statements] == [8]
    assert e.notes["f"].startswith("f was defined again later in the file, which has no numbered sections (A2S2.py line 8)")


def test_a_stub_never_wins_and_is_not_a_note_beside_checks():
    src = "def f():\n    return 1\n\ndef f():\n    raise NotImplementedError\n"
    e = extract([Cell(src, "a.py")], ["f"])
    assert [s.lineno for s in e.statements] == [1] and e.notes == {}
    assert "f: graded the definition at a.py line 1; the handout stub at a.py line 4 does not count" in e.notices


def test_notes_follow_the_graded_code_a_function_reads():
    src = ("def mask():\n    return 0\ndef mask():\n    return 1\ndef attend():\n    return mask()\n"
           "def other():\n    return 2\n")
    e = extract([Cell(src, "a.py")], ["attend", "mask", "other"])
    assert e.notes_about({"attend"}) == [e.notes["mask"]] and e.notes_about({"other"}) == []


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


SCRIPT = '''\
import torch
from blocks import *
n_embd = 64
texts = open("speechesdataset/train.txt").read()
class Classifier(torch.nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab_size, n_embd)
        self.blocks = Blocks(n_embd)
model = Classifier(len(texts))
for epoch in range(15):
    model.train()
if __name__ == "__main__":
    n_embd = 128
    class Classifier:
        pass
'''


def test_a_script_gives_its_classes_and_what_they_read_never_its_run():
    """A main.py's classes (PA2: graders/others.py): its top-level training code and its `__main__` body, which
    rebind the class and a global it reads, are no definitions; the star import a class may read from is kept."""
    e = extract([Cell(SCRIPT, "main.py")], [], all_classes=True)
    assert [s.lineno for s in e.statements] == [1, 2, 3, 5]
    assert e.classes == ["Classifier"] and e.notices == []


def test_star_imports_run_only_for_extracted_classes():
    e = extract([Cell(SCRIPT, "main.py")], [])
    assert e.statements == []
