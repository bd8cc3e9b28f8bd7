"""A real single-node Slurm cluster on this machine, for the tests (and for trying ``--runner slurm`` out from a checkout).

Needs root and Debian's ``slurm-wlm`` and ``munge`` packages (``apt-get install slurm-wlm munge``). Nothing of
the system's Slurm or MUNGE set-up is used: everything lives in one temporary folder, with a MUNGE key,
socket and daemon of its own and Slurm on free ports, so it coexists with a real installation::

    with MiniSlurm() as cluster:          # about a second to start
        os.environ.update(cluster.env)    # SLURM_CONF for sbatch, squeue, submitit
        ...                               # run(jobs, Options(runner="slurm", partition="debug"))

The cluster: ``SlurmctldHost`` and the one node are this host's short name at 127.0.0.1; the node has the
CPUs and memory ``slurmd -C`` finds; partition ``debug`` is the default; ``proctrack/linuxproc`` and
``task/none`` (no cgroups), no accounting storage (``sacct`` fails: the runner falls back to ``squeue``),
``OverTimeLimit=0`` and ``KillWait=2`` so that limits and cancellations take effect quickly.
``stop()`` cancels every job, stops the daemons and returns the processes it had to kill because they
outlived them (none, normally), so that a test can assert there were none.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scancel", "scontrol", "srun")
PARTITION = "debug"


def _which(name: str) -> str | None:
    path = os.environ.get("PATH", os.defpath) + os.pathsep + os.pathsep.join(SBIN)
    return shutil.which(name, path=path)


def missing() -> str | None:
    """Why a MiniSlurm cannot start here (in words), or None when it can."""
    if os.geteuid() != 0:
        return "a single-node Slurm needs root (slurmd runs the jobs as their submitter)"
    absent = [name for name in DAEMONS + CLIENTS if _which(name) is None]
    if absent:
        return f"Slurm or MUNGE is not installed ({', '.join(absent)} not found; apt-get install slurm-wlm munge)"
    return None


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _node_hardware() -> str:
    """The node's line of slurm.conf from ``slurmd -C`` (CPUs, sockets, cores, threads, memory)."""
    try:
        out = subprocess.run([_which("slurmd") or "slurmd", "-C"], capture_output=True, text=True, timeout=30,
                             check=True).stdout
        fields = [f for f in out.splitlines()[0].split() if not f.startswith(("NodeName=", "UpTime="))]
        if any(f.startswith("CPUs=") for f in fields):
            return " ".join(fields)
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:"))
    return f"CPUs={os.cpu_count() or 1} RealMemory={memory_kb // 1024}"


class MiniSlurm:
    def __init__(self, root: str | os.PathLike | None = None) -> None:
        # Short paths: the MUNGE socket's must fit a Unix socket address (108 bytes).
        self.dir = Path(tempfile.mkdtemp(prefix="minislurm-", dir=root or "/tmp"))
        self.conf = self.dir / "slurm.conf"
        self.node = socket.gethostname().split(".")[0]
        self.partition = PARTITION
        self.env = {"SLURM_CONF": str(self.conf)}
        self._procs: dict[str, subprocess.Popen] = {}
        self._last_out = b""

    # -- start -----------------------------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> MiniSlurm:
        why = missing()
        if why:
            raise RuntimeError(why)
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        d = self.dir
        os.chmod(d, 0o755)  # munged wants its socket's folder reachable by everyone
        for sub in ("munge", "state", "spool", "log"):
            (d / sub).mkdir(mode=0o755)
        key = d / "munge" / "munge.key"
        made = subprocess.run([_which("mungekey") or "mungekey", "--create", "--keyfile", str(key)],
                              capture_output=True, check=False) if _which("mungekey") else None
        if made is None or made.returncode != 0:
            key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o600)
        self.socket = d / "munge" / "munge.socket"
        self._spawn("munged", [_which("munged"), "--foreground", f"--socket={self.socket}",
                               f"--key-file={key}", f"--pid-file={d / 'munge' / 'munged.pid'}",
                               f"--log-file={d / 'log' / 'munged.log'}", f"--seed-file={d / 'munge' / 'munged.seed'}"])
        self._wait_for("MUNGE's socket", lambda: self.socket.exists(), timeout)

        ctld_port, slurmd_port = _free_ports(2)
        self.conf.write_text(self._config(ctld_port, slurmd_port))
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-f", str(self.conf)])
        self._wait_for("slurmctld", lambda: self._quiet(["scontrol", "ping"]) and b"UP" in self._last_out, timeout)
        self._spawn("slurmd", [_which("slurmd"), "-D", "-f", str(self.conf), "-N", self.node])
        self._wait_for(f"node {self.node} to be idle",
                       lambda: self._quiet(["sinfo", "--noheader", "--Node", "--format=%T"])
                       and self._last_out.strip() == b"idle", timeout)

    def _config(self, ctld_port: int, slurmd_port: int) -> str:
        d = self.dir
        return "\n".join([
            "ClusterName=graders",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}",
            f"SlurmdPort={slurmd_port}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.socket}",
            f"StateSaveLocation={d / 'state'}",
            f"SlurmdSpoolDir={d / 'spool'}",
            f"SlurmctldPidFile={d / 'slurmctld.pid'}",
            f"SlurmdPidFile={d / 'slurmd.pid'}",
            f"SlurmctldLogFile={d / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={d / 'log' / 'slurmd.log'}",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "MpiDefault=none",
            "ReturnToService=2",
            "SchedulerType=sched/backfill",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            "OverTimeLimit=0",
            "KillWait=2",
            "InactiveLimit=0",
            "MinJobAge=300",
            f"NodeName={self.node} NodeAddr=127.0.0.1 NodeHostname={self.node} {_node_hardware()} State=UNKNOWN",
            f"PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
            "",
        ])

    def _daemon_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        return env

    def _spawn(self, name: str, argv: list) -> None:
        log = open(self.dir / "log" / f"{name}.out", "ab")
        with log:
            self._procs[name] = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=log,
                                                 stderr=subprocess.STDOUT, env=self._daemon_env(),
                                                 start_new_session=True)

    def _quiet(self, command: list[str]) -> bool:
        try:
            done = subprocess.run([_which(command[0]) or command[0], *command[1:]], capture_output=True,
                                  env=self._daemon_env(), timeout=15, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        self._last_out = done.stdout
        return done.returncode == 0

    def _wait_for(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [name for name, p in self._procs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                problem = f"{', '.join(dead)} exited" if dead else f"no {what} after {timeout:g} s"
                raise RuntimeError(f"the single-node Slurm did not start: {problem}\n{self.logs()}")
            time.sleep(0.1)

    def logs(self, lines: int = 15) -> str:
        parts = []
        for path in sorted((self.dir / "log").glob("*")):
            try:
                tail = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    # -- stop ------------------------------------------------------------------------------------------------
    def stop(self) -> list[str]:
        """Cancel all jobs, stop the daemons, remove the folder; returns the leftovers it had to kill."""
        if self._procs.get("slurmctld") and self._procs["slurmctld"].poll() is None:
            self._quiet(["scancel", f"--partition={self.partition}"])
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if self._quiet(["squeue", "--noheader", "--format=%i"]) and not self._last_out.strip():
                    break
                time.sleep(0.2)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self._procs.pop(name, None)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        leftovers = self.leftovers()
        for pid, _ in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        return [f"{pid} {what}" for pid, what in leftovers]

    def leftovers(self) -> list[tuple[int, str]]:
        """Processes of this cluster still alive: any whose command line or environment names its folder."""
        marker, found = str(self.dir).encode(), []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes()
                status = (entry / "status").read_text()
            except OSError:
                continue
            if "State:\tZ" in status:
                continue
            if marker in cmdline or marker in environ:
                found.append((int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
        return found

    def __enter__(self) -> MiniSlurm:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
