"""The grader's end of one sandbox child process: start it, send a request, wait with a deadline.

`wire` (and with it torch) is imported on first use, so a child started at once imports torch while the
grader imports its own modules: the two imports overlap on two cores.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CHILD = Path(__file__).with_name("child.py")
ENV_KEPT = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class Limits:
    call_seconds: float = 10.0
    startup_seconds: float = 60.0
    submission_seconds: float = 120.0
    memory_mib: int = 4096
    file_mib: int = 64
    max_bytes: int = 256 << 20
    threads: int = 1


class Timeout(Exception):
    pass


class Died(Exception):
    """The child exited or was killed; `args[0]` says how."""


class Worker:
    def __init__(self, limits, scratch):
        self.limits = limits
        self.scratch = Path(scratch)
        self.log = self.scratch / "output.log"
        self.proc = None
        self.ready = False

    def start(self):
        config = {"memory_mib": self.limits.memory_mib, "file_mib": self.limits.file_mib, "log": str(self.log),
                  "max_bytes": self.limits.max_bytes, "threads": self.limits.threads}
        env = {k: os.environ[k] for k in ENV_KEPT if k in os.environ}
        env.update(HOME=str(self.scratch), PYTHONHASHSEED="0", OMP_NUM_THREADS=str(self.limits.threads),
                   PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(CHILD), json.dumps(config)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, cwd=self.scratch, env=env, start_new_session=True)
        return self

    def request(self, message, timeout):
        """Send one request; the wall clock for `timeout` starts once the child has imported torch."""
        from graders.sandbox import wire

        if not self.ready:
            self._receive(self.limits.startup_seconds)
            self.ready = True
        try:
            self.proc.stdin.write(wire.encode(message, self.limits.max_bytes))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise Died(self._how_it_died()) from None
        return self._receive(timeout)

    def _receive(self, timeout):
        from graders.sandbox import wire

        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()

        def read_exact(n):
            chunks, left = [], n
            while left:
                wait = deadline - time.monotonic()
                if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                    raise Timeout(timeout)
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
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with status {code}"

    def output_tail(self, limit=2000):
        """The end of what the student's code printed, for a crash message."""
        try:
            data = self.log.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()
        self.proc = None
