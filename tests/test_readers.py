"""Readers of student files in the grader's own (trusted, unlimited) process: size caps with a clear message,
linear time, nesting that exhausts Python's parser or stack reported rather than crashing; and the wall-clock
budget of a whole grade (graders/budget.py), past which results.json names the stage that ran over."""
import json
import subprocess
import sys
import time
from pathlib import Path

from graders.extract import extract
from graders.submission import Cell
from graders_packs.ucsd_cse256_pa2 import mainpy

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["Encoder", "Decoder"]


def nested_main(size, depth=150):
    """A main.py of `size` characters: a training loop over the classifier's data calling the model nested `depth`
    deep on every line (quoting each nested call once took time quadratic in the nesting)."""
    head = "from transformer import Encoder\nmodel = Encoder(vocab_size, n_embd)\nfor xb, yb in train_CLS_loader:\n"
    line = "    " + "model(" * depth + "xb" + ")" * depth + "\n"
    return head + line * ((size - len(head)) // len(line))


def timed(fn, *args):
    started = time.process_time()
    return fn(*args), time.process_time() - started


def test_a_megabyte_of_nested_calls_in_main_py_is_refused_at_once():
    reading, seconds = timed(mainpy.read, [nested_main(1 << 20)], CLASSES)
    assert seconds < 1
    assert reading["roles"] == {} and reading["unread"].startswith("main.py has 10")
    assert "more than the 262144 the grader reads" in reading["unread"]


def test_nested_calls_up_to_the_cap_are_read_in_linear_time():
    reading, seconds = timed(mainpy.read, [nested_main(mainpy.MAX_CHARS - 1000)], CLASSES)
    assert reading["roles"]["classifier"][0] == "Encoder"
    assert seconds < 10, f"{seconds:.1f} s of CPU for a quarter megabyte"


def test_main_py_nested_past_the_parser_or_the_stack_says_so():
    for text in ("x = " + "-" * 100_000 + "1\n", "y = model" + ".c" * 1200 + "\n"):
        reading = mainpy.read([text], CLASSES)
        assert reading["unread"].startswith("main.py nests its expressions too deeply to be read")


def test_a_deeply_nested_expression_costs_only_its_definition():
    text = "def attn_softmax(A):\n    return (" + "-" * 100_000 + "1)\n\n\ndef compute_outputs(A, V):\n    return A @ V\n"
    extraction, seconds = timed(extract, [Cell(text, "A2S2.py")], ["attn_softmax", "compute_outputs"])
    assert seconds < 10
    assert "too deep to parse" in extraction.broken["attn_softmax"]
    assert [s.names for s in extraction.statements] == [["compute_outputs"]]


def grade(args, out):
    run = subprocess.run([sys.executable, "-m", "graders", *args, "--profile", "full", "--budget", "8", "--out",
                          str(out)], capture_output=True, text=True, timeout=600)
    return run


def test_a_grade_past_its_budget_writes_results_naming_the_stage(tmp_path):
    """infinite-sleep's every check waits out call_seconds (10 s): the 8 s budget runs out in the checks."""
    run = grade(["grade", str(ROOT / "adversarial" / "infinite-sleep"), "--assignment",
                 "uw-cse447-a2"], tmp_path)
    assert run.returncode == 1, run.stderr[-2000:]
    (test,) = json.loads((tmp_path / "results.json").read_text())["tests"]
    assert test["output"].startswith("The grader ran past its wall-clock budget of 8 s in the checks stage")
    assert "ran past its wall-clock budget" in run.stdout


def test_a_batch_grader_past_its_budget_records_its_student(tmp_path):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "sleeper.py").write_text(
        (ROOT / "adversarial" / "infinite-sleep" / "A2S2.py").read_text())
    run = grade(["batch", str(tmp_path / "class"), "--assignment", "uw-cse447-a2"], tmp_path / "out")
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((tmp_path / "out" / "students" / "sleeper" / "results.json").read_text())
    assert "ran past its wall-clock budget of 8 s in the checks stage" in results["tests"][0]["output"]
