"""The grader's end of one sandbox child process: start it, send a request, wait with a deadline.

Started as root, the child runs as a dedicated uid of its own (claimed with a lock file, so concurrent
graders never share one), which no other process uses: the grader can then kill everything that uid runs.

`wire` (and with it torch) is imported on first use, so a child started at once imports torch while the
grader imports its own modules: the two imports overlap on two cores.
"""
import fcntl
import importlib.util
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from graders import budget, packs
from graders.sandbox.clock import Stopwatch

CHILD = Path(__file__).with_name("child.py")
ZYGOTE = Path(__file__).with_name("zygote.py")
ENV_KEPT = ("PATH", "LANG", "LC_ALL", "TZ")
# The sandbox has no network, and Hugging Face's libraries are told so: a hub name that is no local checkpoint then
# fails at once. Otherwise a top-level from_pretrained (a notebook's Step 2 tokenizer), run when the file loads
# and before a harness installs the tiny checkpoints, waits on the network until the load's time limit stops it:
# correct-a2s3-notebook passed graded with its class (tests/test_samples.py) and failed graded alone or in a kit.
ENV_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
# `python -I` less its -E: -E would ignore the PYTHONHASHSEED of the scrubbed environment (child_environment), so
# set and dict-of-set orders (a tokenizer's vocabulary built from a set) would change from run to run.
ISOLATED = ("-P", "-s")
FIRST_UID = 61000
SLOTS = 256
SCRATCH_PREFIX = "graders-sandbox-"
LOCKS = Path("/run/lock" if os.path.isdir("/run/lock") else tempfile.gettempdir()) / "graders-uids"
KILL = shutil.which("kill", path="/usr/bin:/bin")
# A call not yet charged its time after BACKSTOP_FACTOR times that time of wall time (at least
# Limits.backstop_seconds) was starved: on 2 cores with 4 busy processes a call gets a third of a core. It gets a
# second window of the same length (the retry: a fresh start would lose the objects the check built and redo the
# work) before it is given up as a machine problem.
BACKSTOP_FACTOR = 3.0
POLL_SECONDS = 0.1
SIGNAL_MEANING = {signal.SIGXCPU: "used up its CPU time limit", signal.SIGKILL: "was killed (SIGKILL)"}


@dataclass(frozen=True)
class Limits:
    """What a sandbox child may use. Time limits count the student's own time, computing or waiting, and never
    the time the machine spent on other work (clock.py), so a busy machine costs the student nothing."""
    call_seconds: float = 10.0          # one call into the student's code
    startup_seconds: float = 300.0      # wall time for the child to start (torch, the preloads): the grader's cost
    submission_seconds: float = 120.0   # all calls of one submission
    memory_mib: int = 4096
    file_mib: int = 16
    quota_mib: int = 256
    max_bytes: int = 256 << 20
    threads: int = 1
    gpu: bool = False  # a training job on CUDA: the child sees the GPU (confine.cuda explains what changes)
    preload: tuple[str, ...] = ()       # modules the child imports before the student's clock starts
    backstop_seconds: float = 30.0      # the least wall time a call is given before it counts as starved

    def backstop(self, seconds):
        """Wall time after which a call not yet charged `seconds` was starved by the machine."""
        return max(self.backstop_seconds, BACKSTOP_FACTOR * seconds)


class Timeout(Exception):
    """A request ran out of time; `why` says whose: "student" (the call was charged its time), "machine" (it was
    starved past the backstop twice), "startup" (the child did not start in time: the grader's own work)."""

    def __init__(self, why, seconds):
        super().__init__(why, seconds)
        self.why, self.seconds = why, seconds


class Died(Exception):
    """The child exited or was killed; `args[0]` says how."""


def hidden_paths():
    """Where the grader's own package and the course content live: the child may never read them (every folder
    of a package that spans several, as a namespace package does)."""
    return [*importlib.util.find_spec("graders").submodule_search_locations, *map(str, packs.hidden_folders())]


def unreachable_by_others():
    """The first directory on the way to Python, its packages or the sandbox code that other users cannot
    traverse (so a dedicated uid could not start the child), or None."""
    paths = sysconfig.get_paths()
    targets = [os.path.realpath(sys.executable), str(CHILD.parent), paths["stdlib"], paths["purelib"],
               str(Path(importlib.util.find_spec("torch").origin).parent)]
    for target in targets:
        here = Path(target)
        for directory in [*reversed(here.parents), here]:
            if directory.is_dir() and not os.stat(directory).st_mode & stat.S_IXOTH:
                return str(directory)
    return None


NOT_ROOT = "not started as root"


def why_no_dedicated_uid():
    """Why a child started now could not run as a dedicated uid, or None when it could. As root, it then runs as
    root: the grader says so before grading (graders/cli.py)."""
    if os.geteuid() != 0:
        return NOT_ROOT
    blocked = unreachable_by_others()
    if blocked:
        return f"{blocked} is not accessible to other users, so a dedicated uid could not run Python"
    return None


def kill_uid(uid):
    """SIGKILL every process of `uid`, sent as that uid. procps's kill is kill(-1, 9) without starting a
    Python (20 ms)."""
    command = [KILL, "-9", "-1"] if KILL else [sys.executable, "-I", "-S", "-c", "import os; os.kill(-1, 9)"]
    subprocess.run(command, user=uid, group=uid, extra_groups=[], check=False, env={},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sweep():
    """Do what workers killed before they could stop (a SIGKILLed batch or grader) left undone: kill what
    their uid still runs and remove their scratch directories, those named for a slot that no live worker
    holds, owned by that slot's uid or, killed before the chown, by root. Returns how many."""
    if os.geteuid() != 0 or not LOCKS.is_dir():
        return 0
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}s*"):
        named = re.fullmatch(rf"{SCRATCH_PREFIX}s(\d+)-\w+", path.name)
        if not named or int(named[1]) >= SLOTS or path.is_symlink() or not path.is_dir():
            continue
        slot = int(named[1])
        if path.lstat().st_uid not in (0, FIRST_UID + slot):
            continue
        with open(LOCKS / f"{slot}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            kill_uid(FIRST_UID + slot)
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


class UidSlot:
    """A uid of the grader's own for one worker, held through a lock file while the worker lives."""

    def __init__(self):
        self.uid, self._lock = None, None
        self.why_not = why_no_dedicated_uid()
        if self.why_not:
            return
        LOCKS.mkdir(mode=0o700, exist_ok=True)
        for slot in range(SLOTS):
            f = open(LOCKS / f"{slot}.lock", "a")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            self.uid, self._lock = FIRST_UID + slot, f
            return
        raise RuntimeError(f"all {SLOTS} sandbox uids are in use")

    def kill_all(self):
        """SIGKILL every process of the uid: nothing it started outlives the worker."""
        if self.uid is not None:
            kill_uid(self.uid)

    def release(self):
        if self._lock:
            self._lock.close()
            self._lock = None


def child_environment(home, limits):
    """The scrubbed environment of a child (and of a zygote, whose children get it back with their HOME)."""
    env = {k: os.environ[k] for k in ENV_KEPT if k in os.environ}
    # USER and LOGNAME: the dedicated uid has no passwd entry, and getpass.getuser() (torch's CUDA and compile
    # caches call it) asks the environment first.
    env.update(HOME=str(home), USER="graders-sandbox", LOGNAME="graders-sandbox", PYTHONHASHSEED="0",
               OMP_NUM_THREADS=str(limits.threads), PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="")
    env.update(ENV_OFFLINE)
    if limits.gpu:  # the runner's choice of GPUs (Slurm sets it), else every GPU of the machine
        del env["CUDA_VISIBLE_DEVICES"]
        if os.environ.get("CUDA_VISIBLE_DEVICES"):
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


class Zygote:
    """A process that has imported torch and forks sandbox children on request (see zygote.py).

    While one runs, every Worker of this process and of its forks asks it for children instead of starting
    Python afresh: batch grading pays torch's import once, not once per student.
    """
    address = None     # the running zygote's socket, inherited by forked graders

    def __init__(self, preload=()):
        self.home = Path(tempfile.mkdtemp(prefix="graders-zygote-"))  # 0700: only the grader reaches the socket
        address = str(self.home / "socket")
        env = child_environment(self.home, Limits())  # children restore their own HOME
        self.proc = subprocess.Popen([sys.executable, *ISOLATED, str(ZYGOTE), address, *preload],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, cwd="/", env=env)
        line = self.proc.stdout.readline()
        if not line.startswith(b"ready"):
            self.stop()
            raise RuntimeError(f"the sandbox zygote did not start (it said {line[:200]!r})")
        Zygote.address = address

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()

    def stop(self):
        Zygote.address = None
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.home, ignore_errors=True)


class ForkedChild:
    """A child forked by the zygote, with the parts of Popen that Worker uses."""

    def __init__(self, address, log, cwd, env, uid):
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.conn.connect(address)
        except OSError:
            self.conn.close()
            raise
        child_in, self_out = os.pipe()
        self_in, child_out = os.pipe()
        with open(log, "ab") as log_file:
            request = json.dumps({"uid": uid, "cwd": str(cwd), "env": env}).encode()
            socket.send_fds(self.conn, [request], [child_in, child_out, log_file.fileno()])
        os.close(child_in)
        os.close(child_out)
        self.stdin, self.stdout = os.fdopen(self_out, "wb"), os.fdopen(self_in, "rb")
        self.pid = json.loads(self.conn.recv(1 << 10))["pid"]
        self.returncode = None

    def wait(self, timeout=None):
        if self.returncode is None:
            self.conn.settimeout(timeout)
            try:
                reply = self.conn.recv(1 << 10)
            except TimeoutError:
                raise subprocess.TimeoutExpired("sandbox child", timeout) from None
            self.returncode = json.loads(reply)["status"] if reply else -signal.SIGKILL
            self.conn.close()
        return self.returncode


class Worker:
    """One child, in a scratch directory of its own that is removed when the worker stops."""

    def __init__(self, limits):
        self.limits = limits
        self.slot = UidSlot()  # first: a scratch directory named for its slot is swept if this grader is killed
        named = f"s{self.slot.uid - FIRST_UID}-" if self.slot.uid is not None else ""
        self.scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX + named))
        self.log = self.scratch / "output.log"
        self.workdir = self.scratch / "work"
        self.proc = None
        self.ready = False
        self.protections = None
        self.charged = 0.0            # the student's time of the last request (clock.py)
        self.budget_token = None      # this worker in the grading budget's kill list (graders/budget.py)

    def start(self):
        uid = self.slot.uid
        self.log.touch(mode=0o600)
        self.workdir.mkdir(mode=0o700)
        if uid is not None:
            for path in (self.scratch, self.log, self.workdir):
                os.chown(path, uid, uid)
        config = {"memory_mib": self.limits.memory_mib, "file_mib": self.limits.file_mib, "log": str(self.log),
                  "max_bytes": self.limits.max_bytes, "threads": self.limits.threads,
                  "workdir": str(self.workdir), "quota_mib": self.limits.quota_mib,
                  "cpu_seconds": int(self.limits.submission_seconds) + 60, "dedicated_uid": uid is not None,
                  "hidden": hidden_paths(), "hidden_modules": ["graders", *packs.hidden_modules()],
                  "gpu": self.limits.gpu, "preload": list(self.limits.preload)}
        env = child_environment(self.scratch, self.limits)
        zygote = Zygote.address if not self.limits.gpu else None  # the zygote's torch never sees a GPU
        try:
            self.proc = ForkedChild(zygote, self.log, self.workdir, env, uid) if zygote else None
        except OSError:  # the zygote is gone: start Python afresh, as without one
            self.proc = None
        if self.proc is None:
            ids = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, *ISOLATED, str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                    cwd=self.workdir, env=env, start_new_session=True, **ids)
        self.proc.stdin.write(json.dumps(config).encode() + b"\n")
        self.proc.stdin.flush()
        self.budget_token = budget.started(self.kill)
        return self

    def request(self, message, seconds, progress=None):
        """Send one request and wait for its reply, for at most `seconds` of the student's time (clock.py); the
        clock starts once the child is ready (torch and the preloads imported). Frames of progress the child sends
        meanwhile go to `progress` (or nowhere). Raises Timeout, Died or wire.WireError. `self.charged` is the
        time the request was charged."""
        from graders.sandbox import wire

        self.charged = 0.0
        if not self.ready:
            reported = self._receive(self._startup_clock())["protections"]
            self.protections = {"dedicated_uid": self.slot.uid is not None, **reported}
            if self.slot.why_not:
                self.protections["no_dedicated_uid_because"] = self.slot.why_not
            self.ready = True
        try:
            self.proc.stdin.write(wire.encode(message, self.limits.max_bytes))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise Died(self._how_it_died()) from None
        watch = Stopwatch(self.proc.pid)
        try:
            clock = self._call_clock(watch, seconds)
            while True:
                reply = self._receive(clock)
                if type(reply) is not dict or set(reply) != {"progress"}:
                    return reply
                if progress is not None:
                    progress(reply["progress"])
        finally:
            self.charged = watch.charged()

    def _startup_clock(self):
        deadline = time.monotonic() + self.limits.startup_seconds

        def expired():
            if time.monotonic() > deadline:
                raise Timeout("startup", self.limits.startup_seconds)
        return expired

    def _call_clock(self, watch, seconds):
        """Raises Timeout once the call has been charged `seconds` (clock.py: its own time, computing or waiting),
        or has run past the wall-clock backstop without that: the machine starved it. A starved call gets one more
        window (the retry) before it is a machine problem."""
        backstop = self.limits.backstop(seconds)
        windows = 1

        def expired():
            nonlocal windows
            if watch.charged() > seconds:
                raise Timeout("student", seconds)
            if watch.wall() > backstop * windows:
                if windows == 2:
                    raise Timeout("machine", backstop)
                windows = 2
        return expired

    def _receive(self, expired):
        from graders.sandbox import wire

        fd = self.proc.stdout.fileno()

        def read_exact(n):
            chunks, left = [], n
            while left:
                if not select.select([fd], [], [], POLL_SECONDS)[0]:
                    expired()
                    continue
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    raise Died(self._how_it_died())
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

        return wire.decode(read_exact, self.limits.max_bytes)

    def _how_it_died(self):
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if code < 0:
            sig = signal.Signals(-code)
            return SIGNAL_MEANING.get(sig, f"was killed by {sig.name}")
        return f"exited with status {code}"

    def output_tail(self, limit=2000):
        """The end of what the student's code printed, for a crash message."""
        try:
            data = self.log.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def kill(self):
        """SIGKILL the child and what its uid runs and remove the scratch directory, without waiting on anything:
        the grading budget's way out (graders/budget.py), from its watchdog thread."""
        self._kill_child()
        self.slot.kill_all()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _kill_child(self):
        proc = self.proc
        if proc is not None:
            for kill in (os.killpg, os.kill):  # the pid too: a forked child may not have its own group yet
                try:
                    kill(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def stop(self):
        budget.stopped(self.budget_token)
        if self.proc is not None:
            self._kill_child()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout):
                f.close()
            self.proc = None
        self.slot.kill_all()
        self.slot.release()
        shutil.rmtree(self.scratch, ignore_errors=True)
