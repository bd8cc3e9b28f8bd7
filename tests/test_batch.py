"""`graders batch` through the real command: a class graded from a warm parent gets the grades that one cold
`graders grade` per student gives; a batch killed with SIGKILL and resumed grades every student exactly once;
a grader that dies costs its student only.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import slot_held

from graders import packs
from graders import spec as specs

SAMPLES = packs.samples("uw-cse447-a2")
TOTAL = specs.get("uw-cse447-a2").max_score  # the reference sample answers every file
CLASS = ["reference", "correct-notebook", "bug-scale-sqrt-embd", "bug-mask-after-softmax", "bug-syntax-error",
         "bug-merge-view-error"]


def make_class(folder, names, copies=1):
    folder.mkdir()
    for i in range(copies):
        for name in names:
            shutil.copytree(SAMPLES / name, folder / (name if copies == 1 else f"{name}-{i}"))
    return folder


def batch(class_dir, out, *extra, **kwargs):
    return subprocess.run([sys.executable, "-m", "graders", "batch", str(class_dir), "--assignment", "uw-cse447-a2",
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=600, **kwargs)


def graded(out):
    return {p.parent.name: json.loads(p.read_text()) for p in (out / "students").glob("*/results.json")}


def journal(out):
    lines = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    return [e["student"] for e in lines if "student" in e]


def comparable(results):
    """What must not depend on how the submission was graded: every check's verdict and feedback."""
    return results["score"], [(t["name"], t["status"], t["score"], t["output"]) for t in results["tests"]]


@pytest.fixture(scope="module")
def class_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    class_dir = make_class(tmp / "class", CLASS)
    run = batch(class_dir, tmp / "out", "--workers", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    return class_dir, tmp / "out", run


def test_batch_grades_like_cold_grade(class_batch, tmp_path):
    """The batch replays the examples hypothesis drew for the reference and hands a check back to hypothesis at
    its first failing example; a cold grade runs hypothesis throughout: every verdict and feedback line agree."""
    class_dir, out, _ = class_batch
    results = graded(out)
    assert sorted(results) == sorted(CLASS)
    for name in CLASS:
        cold = tmp_path / name
        run = subprocess.run([sys.executable, "-m", "graders", "grade", str(class_dir / name), "--assignment",
                              "uw-cse447-a2", "--out", str(cold)], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert comparable(results[name]) == comparable(json.loads((cold / "results.json").read_text())), name
    assert results["reference"]["score"] == TOTAL and results["bug-scale-sqrt-embd"]["score"] < TOTAL
    assert results["reference"]["extra_data"]["sandbox"]["seccomp"] is not None


def test_batch_writes_reports_and_gradebook(class_batch):
    _, out, run = class_batch
    assert sorted(journal(out)) == sorted(CLASS)
    for name in CLASS:
        page = (out / "students" / name / "report.html").read_text()
        assert "../../index.html" in page
    index = (out / "index.html").read_text()
    assert all(f"students/{name}/report.html" in index for name in CLASS)
    rows = {r[0]: r for r in csv.reader((out / "grades.csv").read_text().splitlines())}
    scores = {name: r["score"] for name, r in graded(out).items()}
    for name, score in scores.items():
        assert float(rows[name][1 + [h.lower() for h in next(iter(rows.values()))[1:]].index("total")]) == score
    checks = list(csv.DictReader((out / "checks.csv").read_text().splitlines()))
    assert {name: sum(float(r["Score"]) for r in checks if r["Student"] == name) for name in scores} == scores
    assert f"{len(CLASS)} students" in run.stderr and "grader failures" in run.stderr


def test_checks_csv_matches_results_json_for_every_student(class_batch):
    """checks.csv, row by row, says what each student's results.json says: score, max score, part and kind."""
    from graders.check_kinds import CheckKind
    from graders.expected import numbered

    _, out, _ = class_batch
    checks = numbered(specs.get("uw-cse447-a2"))
    rows = list(csv.DictReader((out / "checks.csv").read_text().splitlines()))
    results = graded(out)
    assert {r["Student"] for r in rows} == set(results)
    for sid, data in results.items():
        want = sorted((checks[t["number"]].name, t["tags"][1], t["score"], t["max_score"], CheckKind.of(t))
                      for t in data["tests"])
        got = sorted((r["Check"], r["Part"], float(r["Score"]), float(r["Max score"]), CheckKind(r["Kind"]))
                     for r in rows if r["Student"] == sid)
        assert got == want, sid
    kinds = {r["Kind"] for r in rows}
    assert {"passed", "wrong", "missing"} <= kinds and "pending" not in kinds


def test_batch_refuses_to_mix_batches(class_batch):
    class_dir, out, _ = class_batch
    again = batch(class_dir, out)
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = batch(class_dir, out, "--resume")
    assert resumed.returncode == 0 and f"{len(CLASS)} already graded, 0 to grade" in resumed.stderr
    assert sorted(journal(out)) == sorted(CLASS)


def children(pid):
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def sandbox_scratch():
    return set(Path(tempfile.gettempdir()).glob("graders-sandbox-*"))


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def descendants(pid):
    found = children(pid)
    for child in list(found):
        found += descendants(child)
    return found


def test_sigkill_then_resume_grades_everyone_exactly_once(tmp_path):
    class_dir = make_class(tmp_path / "class", CLASS, copies=2)
    out = tmp_path / "out"
    scratch_before = sandbox_scratch()
    proc = subprocess.Popen([sys.executable, "-m", "graders", "batch", str(class_dir), "--assignment", "uw-cse447-a2",
                             "--out", str(out), "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while (not (out / "journal.jsonl").exists() or len(journal(out)) < 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    family = descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    done_before = journal(out)
    assert 3 <= len(done_before) < 2 * len(CLASS), "the batch was killed midway"
    time.sleep(1)
    alive = [pid for pid in family if Path(f"/proc/{pid}").exists() and
             Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"]
    assert not alive, f"graders or sandboxes outlived the killed batch: {alive}"
    orphans = sandbox_scratch() - scratch_before
    resumed = batch(class_dir, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    left = {d for d in orphans & sandbox_scratch() if not slot_held(d)}  # held: another test's, live
    assert not left, "the resumed batch removes what the killed graders left in /tmp"
    done = journal(out)
    assert sorted(done) == sorted(p.name for p in class_dir.iterdir()), "every student graded exactly once"
    assert done[:len(done_before)] == done_before, "nobody graded before the kill was graded again"
    assert len(graded(out)) == 2 * len(CLASS)


def test_a_dying_grader_costs_its_student_only(tmp_path):
    class_dir = make_class(tmp_path / "class", ["reference", "bug-not-scaled"])
    shutil.copytree(Path(__file__).resolve().parents[1] / "adversarial" / "infinite-sleep", class_dir / "a-sleeper")
    out = tmp_path / "out"
    scratch_before = sandbox_scratch()
    proc = subprocess.Popen([sys.executable, "-m", "graders", "batch", str(class_dir), "--assignment", "uw-cse447-a2",
                             "--out", str(out), "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    # Forked graders share the batch's command line, and so, until they exec, do the batch's own short-lived
    # subprocesses (the warm-up's sandbox, a kill of a sandbox uid): a grader is one that stays.
    # The first student graded is a-sleeper, whose every call hangs, so its grader stays for seconds.
    deadline, victim = time.monotonic() + 120, None
    while victim is None and time.monotonic() < deadline:
        seen = [p for p in children(proc.pid) if b"\0batch\0" in cmdline(p)]
        time.sleep(1)
        victim = next((p for p in seen if p in children(proc.pid) and b"\0batch\0" in cmdline(p)), None)
    assert victim in children(proc.pid)
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    results = graded(out)
    assert "killed by SIGKILL" in results["a-sleeper"]["tests"][-1]["output"]
    assert results["reference"]["score"] == TOTAL and 0 < results["bug-not-scaled"]["score"] < TOTAL
    assert "1 grader failures" in err
    left = {d for d in sandbox_scratch() - scratch_before if not slot_held(d)}  # held: another test's, live
    assert not left, "the batch removes what the grader it lost left in /tmp"


def test_a_sample_class_checks_itself_against_expected_yaml(tmp_path):
    """`graders batch` (and so `graders demo`) over entries that carry expected.yaml says how many got the grade it
    names, lists the others, and exits 1: here the reference, relabelled as a bug that fails a check it passes."""
    class_dir = make_class(tmp_path / "class", ["reference"])
    (class_dir / "reference" / "expected.yaml").write_text(
        "kind: bug\nfail:\n  test_pairwise_similarities: Q·Kᵀ\n")
    run = batch(class_dir, tmp_path / "out")
    assert run.returncode == 1, run.stderr[-3000:]
    assert "samples: 0 of 1 agree with their expected.yaml" in run.stderr
    assert "test_pairwise_similarities should fail" in run.stderr
