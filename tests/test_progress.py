"""Training you can watch (issue 18): a threshold job's progress travels from the sandbox child as plain numbers,
through a file the runner reads, to `graders batch`'s output, which shows it every few seconds when piped; it
never reaches a grade. Reports give grading and training time apart."""
import io
import itertools
import json
import math
import re
import shutil
import subprocess
import sys
import threading
import time

from rich.console import Console

from graders import packs
from graders.report import stats
from graders.runners import progress
from graders.training import TrainingView, describe

SAMPLES = packs.samples("jhu-cs601-hw5")
MAX_GAP = 10.0  # seconds a TA may wait for news of the training (issue 18, Done when)


def test_a_record_keeps_only_finite_numbers_it_knows():
    assert progress.record({"step": 3, "steps": 10, "loss": 1.5, "secret": 99}, "training") == {
        "phase": "training", "step": 3, "steps": 10, "loss": 1.5}
    assert progress.record({"step": 3, "loss": math.nan}, "training") == {"phase": "training", "step": 3}
    for bad in ({"step": "3"}, {"steps": 10}, {"step": 11, "steps": 10}, [3], {"step": -1}):
        assert progress.record(bad, "training") is None, bad
    assert progress.record({"step": 1}, "scoring") is None


def test_the_runner_reads_whole_lines_only(tmp_path):
    path = tmp_path / "job-0.out.progress"
    tail = progress.Tail(path)
    assert tail.read() == []
    path.write_text('{"phase": "training", "step": 1, "steps": 4}\n{"phase": "training", "st')
    assert tail.read() == [{"phase": "training", "step": 1, "steps": 4}]
    with open(path, "a") as f:
        f.write('ep": 2, "steps": 4, "loss": 0.5}\nnot json\n{"phase": "evil", "step": 1}\n')
    assert tail.read() == [{"phase": "training", "step": 2, "steps": 4, "loss": 0.5}]


def test_a_log_line_says_step_loss_elapsed_and_eta():
    line = describe({"phase": "training", "step": 100, "steps": 400, "loss": 1.23456, "elapsed": 20.0})
    assert line == "training step 100/400, loss 1.235, 20 s elapsed, ETA 1 min 00 s"


def test_the_view_forgets_a_job_that_ended():
    class Quiet:
        is_terminal = False

        def print(self, *args, **kwargs):
            pass

    view = TrainingView(Quiet())
    with view(2):
        view.update("ana", "gpt_lm", {"phase": "training", "step": 5, "steps": 10})
        view.update("bo", "gpt_lm", {"phase": "training", "step": 1, "steps": 10})
        view.update("ana", "gpt_lm", None)
        lines = view.lines()
    assert lines[0].startswith("training: 1/2 jobs done, 1 reporting")
    assert lines[1:] == ["  bo gpt_lm: training step 1/10"]


def test_a_terminal_shows_a_bar_per_running_job():
    screen = io.StringIO()
    view = TrainingView(Console(file=screen, force_terminal=True, width=120))
    with view(2):
        view.update("ana", "gpt_lm", {"phase": "training", "step": 5, "steps": 10, "loss": 2.0, "elapsed": 3.0})
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "ana gpt_lm" in shown and "5/10 training, loss 2.000, 3 s elapsed, ETA 3 s" in shown, shown
    assert "0/2   jobs done" in shown, shown


def test_batch_shows_training_progress_when_piped(tmp_path):
    """`graders batch --profile smoke` on a class with a threshold, its output piped: while the job trains, a line
    of its progress at least every MAX_GAP seconds; the reports then give the training time apart."""
    class_dir = tmp_path / "class"
    shutil.copytree(SAMPLES / "reference", class_dir / "ana")
    (class_dir / "ana" / "expected.yaml").unlink()
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "graders", "batch", str(class_dir), "--assignment",
                             "jhu-cs601-hw5", "--profile", "smoke", "--workers", "1", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []  # (seconds since start, line)
    start = time.monotonic()
    reader = threading.Thread(target=lambda: seen.extend((time.monotonic() - start, line) for line in proc.stdout))
    reader.start()
    assert proc.wait(timeout=600) == 0, "".join(line for _, line in seen)[-3000:]
    reader.join()
    text = "".join(line for _, line in seen)
    begun = next(t for t, line in seen if line.startswith("training for 1 students"))
    ended = next(t for t, line in seen if line.startswith("graded "))
    steps = [(t, line) for t, line in seen if "ana gpt_lm: training step" in line]
    assert steps, text
    times = [begun] + [t for t, line in seen if line.startswith("training: ")] + [ended]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= MAX_GAP, (gaps, text)
    assert "/600, loss " in steps[-1][1] and "ETA" in steps[-1][1], steps[-1]
    results = json.loads((out / "students" / "ana" / "results.json").read_text())
    assert results["score"] == results["extra_data"]["max_score"], text
    assert results["extra_data"]["training_time"] > 10  # the job trained about a minute, apart from grading
    assert stats.seconds(results) == results["execution_time"] + results["extra_data"]["training_time"]
    page = (out / "students" / "ana" / "report.html").read_text()
    assert ", trained in " in page
    assert "<th class=\"num\">Training</th>" in (out / "index.html").read_text()
