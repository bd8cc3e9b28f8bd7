"""A warm parent for sandbox children: imports torch once, then forks one child per request.

Batch grading starts one zygote (`python -P -s zygote.py SOCKET [MODULE ...]`: standard library, torch and the
spec's preloads only, like child.py). A grader connects to SOCKET and sends the pipes and log file of one child
with SCM_RIGHTS;
the zygote forks, and the fork becomes exactly what worker.py would have exec'd: it takes the dedicated
uid, its own session and scrubbed environment, and runs child.main(), which confines it. Forking a
process that has imported torch takes ~10 ms where exec'ing a fresh one takes ~1 s.

The zygote answers with the child's pid, later with its exit status, and kills the child when the
grader's connection closes: a grader that dies takes its child with it. It never runs student code, and
dies with the process that started it.
"""
import json
import os
import select
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import child  # noqa: E402
import confine  # noqa: E402

del sys.path[0]


def spawn(request, fds):
    """Fork a child with the grader's pipes as fds 0 and 1 and its log as fd 2; return its pid."""
    pid = os.fork()
    if pid:
        return pid
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd, target in zip(fds, (0, 1, 2), strict=True):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.setsid()
        uid = request["uid"]
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            confine._prctl(confine.PR_SET_DUMPABLE, 1)  # as exec would: child.main needs its own uid_map
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        child.main()
    finally:
        os._exit(0)


def serve(server):
    """Accept graders; fork on each request; report exits; kill the children of graders that left."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    owners, pids = {}, {}    # pid -> connection (None once the grader left); connection -> pid
    while True:
        ready = select.select([server, wake_r, *pids], [], [])[0]
        if wake_r in ready:
            os.read(wake_r, 512)
            reap(owners, pids)
        if server in ready:
            conn, _ = server.accept()
            pids[conn] = None
        for conn in [c for c in ready if c in pids]:
            try:
                message, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
            except OSError:
                message, fds = b"", []
            if message and len(fds) == 3 and pids[conn] is None:
                pid = spawn(json.loads(message), fds)
                for fd in fds:
                    os.close(fd)
                pids[conn], owners[pid] = pid, conn
                conn.sendall(json.dumps({"pid": pid}).encode())
                continue
            for fd in fds:
                os.close(fd)
            pid = pids.pop(conn)  # the grader left, or sent nonsense: its child goes too
            if pid is not None and owners.get(pid) is conn:
                owners[pid] = None
                for kill in (os.killpg, os.kill):  # the pid too: it may not have its own group yet
                    try:
                        kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            conn.close()


def reap(owners, pids):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        conn = owners.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode())
            except OSError:
                pass


def main(address, preload):
    confine._prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
    import torch

    torch.backends.cpu.get_cpu_capability()
    child.preload(preload)  # every child inherits them, at no cost to its student's clock
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(address)
    server.listen(64)
    sys.stdout.write(f"ready {torch.__version__}\n")
    sys.stdout.flush()
    serve(server)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
