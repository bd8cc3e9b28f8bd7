"""Each layer of the sandbox holds against the attack it is there for. Runs with whatever this machine
allows and skips, saying why, a layer the machine cannot give."""
import os
import re
import socket
from dataclasses import asdict

import pytest

from graders.extract import extract
from graders.problems import LimitExceeded, StudentError
from graders.sandbox.session import Session, StudentModule
from graders.sandbox.worker import Limits
from graders.submission import Cell, SourceFile

PACK = os.path.join(os.path.dirname(__file__), "..", "graders_packs", "uw_cse447_a2")
REFERENCE = os.path.join(PACK, "reference", "a2s2.py")


@pytest.fixture(scope="module")
def probe():
    """One sandbox child running a file of probes, each returning what it managed to do."""
    code = '''
import os, socket, signal, ctypes, mmap
def read(path):
    with open(path) as f:
        return f.read(100)
def write(path):
    with open(path, "w") as f:
        f.write("x")
    return os.path.exists(path)
def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", {PORT}))
    return "connected"
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return pid
def run(cmd):
    import subprocess
    return subprocess.run(cmd, capture_output=True).returncode
def kill_parent():
    os.kill(os.getppid(), signal.SIGKILL)
    return "sent"
def shm():
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.shmget(0, 4096, 0o1000 | 0o600)
    if r < 0:
        raise OSError(ctypes.get_errno(), "shmget failed")
    return r
def memfd():
    return os.memfd_create("x")
def protections():
    return sorted(os.listdir("."))
def fill_disk():
    for i in range(10_000):
        with open(f"fill{i}", "wb") as f:
            f.write(bytes(8 << 20))
def flood_output():
    while True:
        print("x" * (1 << 20))
'''
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    code = code.replace("{PORT}", str(listener.getsockname()[1]))
    wanted = re.findall(r"^def (\w+)", code, re.M)
    e = extract([Cell(code, "A2S2.py")], wanted)
    modules = [{"name": "A2S2", "file": "A2S2.py", "statements": [asdict(s) for s in e.statements]}]
    session = Session(modules, e.texts, Limits(call_seconds=5)).start()
    student = StudentModule(session, "A2S2", SourceFile("A2S2.py"), e)
    student.protections()
    yield student, session.protections
    session.close()
    listener.close()


def needs(protections, layer):
    if not protections[layer]:
        pytest.skip(f"this machine gives no {layer}")


def blocked(call, *args):
    with pytest.raises(StudentError, match="PermissionError|Operation not permitted|Permission denied|"
                                           "Network is unreachable"):
        call(*args)


def test_the_reference_and_the_checks_cannot_be_read(probe):
    student, protections = probe
    needs(protections, "landlock")
    checks = os.path.join(PACK, "test_a2s2.py")
    for path in (REFERENCE, checks):
        assert os.path.exists(path)
        blocked(student.read, os.path.abspath(path))
    assert student.read(os.__file__).startswith('r"""OS routines')  # the standard library stays readable


def test_grader_process_memory_and_environment_cannot_be_read(probe):
    student, protections = probe
    needs(protections, "landlock")
    blocked(student.read, f"/proc/{os.getpid()}/environ")
    blocked(student.read, f"/proc/{os.getpid()}/mem")


def test_writes_stay_in_the_scratch_directory(probe):
    student, protections = probe
    assert student.write("mine.txt") is True
    needs(protections, "landlock")
    blocked(student.write, "/tmp/graders-escape.txt")
    blocked(student.write, "/dev/shm/graders-escape")
    assert not os.path.exists("/tmp/graders-escape.txt") and not os.path.exists("/dev/shm/graders-escape")


def test_no_network(probe):
    student, protections = probe
    needs(protections, "seccomp")
    blocked(student.connect)


def test_no_processes(probe):
    student, protections = probe
    needs(protections, "seccomp")
    blocked(student.fork)
    blocked(student.run, ["/bin/true"])


def test_cannot_signal_the_grader(probe):
    student, protections = probe
    if not (protections["dedicated_uid"] or protections["landlock"] >= 6):
        pytest.skip("neither a dedicated uid nor Landlock signal scoping on this machine")
    blocked(student.kill_parent)


def test_no_shared_memory(probe):
    student, protections = probe
    needs(protections, "seccomp")
    blocked(student.shm)
    blocked(student.memfd)


def test_disk_fill_stops_at_the_scratch_quota(probe):
    student, protections = probe
    if not protections["scratch_quota_mib"]:
        pytest.skip("no scratch quota (tmpfs in a user namespace) on this machine")
    student._session.begin_check()
    with pytest.raises(LimitExceeded, match="wrote more than the sandbox allows"):
        student.fill_disk()


def test_output_flood_stops_at_the_file_size_limit(probe):
    student, _ = probe
    student._session.begin_check()
    with pytest.raises(LimitExceeded, match="printed or wrote more than the sandbox allows .16 MiB per file"):
        student.flood_output()
