"""The training-job runners: local (a fresh process per job) and Slurm (submitit, against a real one-node Slurm).

The Slurm tests start their own cluster (tests/minislurm.py: munged, slurmctld and slurmd on free
ports, everything in a temporary folder) once for the session, and check at the end that no process of it
outlived it. They need root and Debian's slurm-wlm and munge (.ci/run installs them) and skip, saying so,
without them. A job that Slurm ends is covered by a cancellation (a real time limit takes about 100 s: Slurm's
minimum limit is a minute and it checks limits every 30 s) and by the mapping of Slurm's states to reasons.
"""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from graders.runners import Options, Outcome, resolve_device, run
from graders.runners import slurm as slurm_runner

# -- job functions: top-level, so both runners import them by name ------------------------------------------


def smoke_job(steps, seed):
    """A tiny deterministic 'training run': fit y = 3x - 1 by gradient descent; returns plain data."""
    import random

    rng = random.Random(seed)
    xs = [rng.uniform(-1, 1) for _ in range(64)]
    ys = [3 * x - 1 for x in xs]
    w = b = 0.0
    for _ in range(steps):
        gw = sum(2 * (w * x + b - y) * x for x, y in zip(xs, ys, strict=True)) / len(xs)
        gb = sum(2 * (w * x + b - y) for x, y in zip(xs, ys, strict=True)) / len(xs)
        w, b = w - 0.5 * gw, b - 0.5 * gb
    loss = sum((w * x + b - y) ** 2 for x, y in zip(xs, ys, strict=True)) / len(xs)
    return {"w": round(w, 6), "b": round(b, 6), "loss": loss, "steps": steps}


def printing_job():
    print("epoch 1 loss 0.5", flush=True)
    return 1


def raising_job():
    raise ValueError("the loss went NaN at step 3")


def exiting_job():
    os._exit(3)


def signalled_job():
    os.kill(os.getpid(), signal.SIGSEGV)


def unsendable_job():
    return lambda: 1


def sleeping_job(seconds, marker=None):
    """Sleeps; first writes its Slurm job id (or pid) and a child's pid to `marker`, when given."""
    child = subprocess.Popen(["sleep", str(seconds)])
    if marker:
        Path(marker + ".tmp").write_text(f"{os.environ.get('SLURM_JOB_ID', os.getpid())} {child.pid}")
        os.replace(marker + ".tmp", marker)
    time.sleep(seconds)
    return "woke up"


def wait_for_file(path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        assert time.monotonic() < deadline, f"{path} did not appear in {timeout} s"
        time.sleep(0.1)
    return Path(path).read_text().split()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/status") as f:
        return "State:\tZ" not in f.read()


# -- local ------------------------------------------------------------------------------------------------------


def test_local_runs_a_job_in_a_fresh_process_and_returns_its_value():
    [outcome] = run([(smoke_job, (50, 0))], Options(device="cpu"))
    assert outcome.ok, outcome.reason
    assert outcome.value == smoke_job(50, 0)
    assert outcome.value["loss"] < 1e-6
    assert outcome.where == "local cpu"
    assert outcome.seconds >= 0


def test_local_failures_cost_only_their_own_job():
    outcomes = run([(raising_job, ()), (exiting_job, ()), (signalled_job, ()), (unsendable_job, ()),
                    (smoke_job, (5, 1))], Options(device="cpu"))
    raised, exited, signalled, unsendable, fine = outcomes
    assert not raised.ok and raised.reason == "the job died: ValueError: the loss went NaN at step 3"
    assert not exited.ok and "exited with status 3" in exited.reason
    assert not signalled.ok and "SIGSEGV" in signalled.reason
    assert not unsendable.ok and "cannot be sent back" in unsendable.reason
    assert fine.ok and fine.value == smoke_job(5, 1)


def test_local_timeout_kills_the_jobs_process_group(tmp_path):
    marker = str(tmp_path / "started")
    start = time.monotonic()
    [outcome] = run([(sleeping_job, (120, marker))], Options(device="cpu", time_minutes=0.05))
    assert time.monotonic() - start < 30
    assert not outcome.ok and outcome.reason == "the job ran past its 3 s limit"
    assert 2.5 < outcome.seconds < 30
    job_pid, child_pid = map(int, Path(marker).read_text().split())
    assert not alive(job_pid) and not alive(child_pid), "the job's process group outlived its timeout"


def test_local_job_output_goes_to_a_log_in_the_folder(tmp_path, capfd):
    [outcome] = run([(printing_job, ())], Options(device="cpu", folder=tmp_path / "logs"))
    assert outcome.ok and outcome.value == 1
    assert "epoch 1 loss 0.5" in (tmp_path / "logs" / "job-0.log").read_text()
    assert "epoch 1" not in capfd.readouterr().out


def test_device_resolution_on_this_machine():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the test is about a CPU-only machine")
    assert resolve_device(Options()) == "cpu"
    assert resolve_device(Options(device="cpu")) == "cpu"
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device(Options(device="cuda"))
    with pytest.raises(ValueError, match="no CUDA device"):
        run([(smoke_job, (1, 0))], Options(device="cuda"))
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device(Options(device="tpu"))
    # On Slurm the GPUs are on the nodes: the device follows --gpus, not this machine.
    assert resolve_device(Options(runner="slurm")) == "cpu"
    assert resolve_device(Options(runner="slurm", gpus=1)) == "cuda"
    with pytest.raises(ValueError, match="gpus >= 1"):
        resolve_device(Options(runner="slurm", device="cuda"))


def test_options_that_make_no_sense_are_errors_and_no_jobs_is_no_outcomes():
    with pytest.raises(ValueError, match="unknown runner"):
        run([(smoke_job, (1, 0))], Options(runner="kubernetes"))
    with pytest.raises(ValueError, match="time_minutes"):
        run([(smoke_job, (1, 0))], Options(time_minutes=0))
    assert run([], Options(device="cpu")) == []


def test_slurm_runner_without_slurm_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    outcomes = run([(smoke_job, (1, 0)), (smoke_job, (1, 1))], Options(runner="slurm", partition="gpu"))
    assert [o.ok for o in outcomes] == [False, False]
    assert "sbatch" in outcomes[0].reason and "not found" in outcomes[0].reason


def test_slurm_state_parsing_and_reasons():
    sacct = "12_0|COMPLETED|vm|debug\n12_[1-2%2]|PENDING|None assigned|debug\n13|CANCELLED by 0|vm|gpu\n13.batch|CANCELLED||\n"
    states = slurm_runner._parse(sacct)
    assert states["12_0"]["state"] == "COMPLETED" and states["12_0"]["node"] == "vm"
    assert states["12_1"]["state"] == states["12_2"]["state"] == "PENDING" and states["12_2"]["node"] == ""
    assert states["13"]["state"] == "CANCELLED by 0" and "13.batch" not in states

    class Job:
        job_id = "13"

    def reason(state):
        return slurm_runner._slurm_reason(slurm_runner._Tracked(0, Job(), 0.0, state=state), 30)

    assert reason("CANCELLED by 0") == "Slurm cancelled the job (CANCELLED by 0)"
    assert reason("TIMEOUT") == "the job ran past its 30 min limit (Slurm: TIMEOUT)"
    assert "node running the job failed" in reason("NODE_FAIL")
    assert "out of memory" in reason("OUT_OF_MEMORY")


# -- Slurm: a real single-node cluster ------------------------------------------------------------------------


def slurm_options(tmp_path, **kw):
    return Options(**{"runner": "slurm", "partition": "debug", "cpus": 1, "time_minutes": 2,
                      "folder": tmp_path / "submitit", **kw})


def test_the_same_smoke_job_runs_locally_and_on_slurm(slurm, tmp_path):
    [local] = run([(smoke_job, (40, 7))], Options(device="cpu"))
    [remote] = run([(smoke_job, (40, 7))], slurm_options(tmp_path))
    assert local.ok and remote.ok, (local.reason, remote.reason)
    assert remote.value == local.value == smoke_job(40, 7)
    assert remote.where.startswith("slurm job ") and remote.where.endswith(f"on node {slurm.node} (partition debug)")


def test_slurm_failures_cost_only_their_own_job(slurm, tmp_path):
    outcomes = run([(raising_job, ()), (exiting_job, ()), (smoke_job, (3, 2))], slurm_options(tmp_path))
    raised, exited, fine = outcomes
    assert not raised.ok and raised.reason == "the job died: ValueError: the loss went NaN at step 3"
    assert not exited.ok and "FAILED" in exited.reason and "exit code 3" in exited.reason
    assert fine.ok and fine.value == smoke_job(3, 2)
    assert len({o.where.split(" on ")[0] for o in outcomes}) == 3  # three tasks of one array


def test_slurm_reports_a_cancelled_job(slurm, tmp_path):
    marker = str(tmp_path / "started")
    box: list[Outcome] = []
    runner = threading.Thread(target=lambda: box.extend(run([(sleeping_job, (300, marker))], slurm_options(tmp_path))))
    runner.start()
    job_id, child = wait_for_file(marker)
    subprocess.run(["scancel", job_id], check=True)
    runner.join(timeout=60)
    assert not runner.is_alive(), "run() did not notice the cancellation"
    [outcome] = box
    assert not outcome.ok and outcome.reason == "Slurm cancelled the job (CANCELLED)"
    deadline = time.monotonic() + 15
    while alive(int(child)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(int(child)), "Slurm left the cancelled job's child running"


def test_slurm_refuses_an_unknown_partition(slurm, tmp_path):
    [outcome] = run([(smoke_job, (1, 0))], Options(runner="slurm", partition="nope", folder=tmp_path / "s"))
    assert not outcome.ok and outcome.reason.startswith("Slurm refused the jobs:") and "partition" in outcome.reason


