"""Confinement of the sandbox child, layer by layer, each applied where the OS allows it.

Loaded by path in the child (standard library only). Each function returns what it achieved, so the
grader can record which protections were active. Layers:
- process: no new privileges, not dumpable (no /proc/<pid>/mem or ptrace from same-uid processes), killed
  with the grader;
- namespaces: new user, network, mount and IPC namespaces where unprivileged namespaces work: no network
  interface but a downed loopback, a size-capped tmpfs as the working directory and SysV IPC objects that
  all vanish with the child;
- rlimits: address space, CPU, file size, open files, core dumps, and processes when running as a
  dedicated uid;
- Landlock: reads only below the Python installation and site-packages minus the grader's own packages,
  writes only below the scratch directory, no TCP, no signals or abstract sockets outside the sandbox;
- seccomp: no sockets, fork or exec, ptrace, process_vm_*, namespaces, mounts, set*id, SysV/POSIX shared
  memory, memfd, bpf, io_uring, applied to every thread.
"""
import ctypes
import os
import platform
import resource
import struct
import sys
import sysconfig

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x08000000, 0x10000000, 0x40000000
CLONE_THREAD = 0x00010000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18


def _prctl(option, value):
    return libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) == 0


def process_flags():
    """No new privileges (needed by Landlock and seccomp), not dumpable, SIGKILL when the grader dies."""
    return {"no_new_privs": _prctl(PR_SET_NO_NEW_PRIVS, 1), "not_dumpable": _prctl(PR_SET_DUMPABLE, 0),
            "dies_with_grader": _prctl(PR_SET_PDEATHSIG, 9)}


def namespaces(workdir, quota_mib):
    """Enter new user, network and mount namespaces and mount a tmpfs of `quota_mib` on `workdir`.

    Returns what took effect: {"network_namespace": bool, "scratch_quota_mib": int or 0}.
    """
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC) != 0:
        return {"network_namespace": False, "scratch_quota_mib": 0}
    try:  # map our own ids, so files keep their owner
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        ok = libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0 and libc.mount(
            b"tmpfs", workdir.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            f"size={quota_mib}m,mode=0700".encode()) == 0
    except OSError:
        ok = False
    return {"network_namespace": True, "scratch_quota_mib": quota_mib if ok else 0}


def rlimits(memory_mib, cpu_seconds, file_mib, dedicated_uid, gpu=False):
    """The resource limits that took effect. On a GPU the memory limit is RLIMIT_DATA: CUDA reserves far
    more address space than it uses (so RLIMIT_AS would stop it), and DATA still bounds the heap."""
    mib = 1 << 20
    limits = {"RLIMIT_DATA" if gpu else "RLIMIT_AS": memory_mib * mib, "RLIMIT_CPU": cpu_seconds,
              "RLIMIT_FSIZE": file_mib * mib, "RLIMIT_NOFILE": 256, "RLIMIT_CORE": 0}
    if dedicated_uid:  # RLIMIT_NPROC counts every process of the uid: only safe for a uid of our own
        limits["RLIMIT_NPROC"] = 64
    applied = []
    for name, value in limits.items():
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
            applied.append(name)
        except (ValueError, OSError):
            pass
    return applied


# Landlock (linux/landlock.h).
# Filesystem rights are bits 0..15 (EXECUTE .. IOCTL_DEV); ABI 1 knows 13 of them, ABI 2 adds REFER,
# ABI 3 TRUNCATE, ABI 5 IOCTL_DEV.
LANDLOCK_FS = [1 << i for i in range(16)]
FS_RIGHTS_BY_ABI = {1: 13, 2: 14, 3: 15, 4: 15, 5: 16}
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
SYS_LANDLOCK = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}


def landlock(readable, writable, hidden):
    """Allow reading below `readable`, everything below `writable`; `hidden` stays unreadable even when it
    lies below a readable root. Returns the Landlock ABI version applied, or 0."""
    numbers = SYS_LANDLOCK.get(platform.machine())
    if not numbers:
        return 0
    create, add_rule, restrict = numbers
    abi = libc.syscall(create, None, 0, 1)
    if abi < 1:
        return 0
    handled_fs = sum(LANDLOCK_FS[:FS_RIGHTS_BY_ABI.get(abi, 16)])
    attr = struct.pack("QQQ", handled_fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(create, attr[:size], size, 0)
    if ruleset < 0:
        return 0
    try:
        read = EXECUTE | READ_FILE | READ_DIR
        for path in _expand(readable, hidden):
            _allow(add_rule, ruleset, path, read, handled_fs)
        for path in writable:
            _allow(add_rule, ruleset, path, handled_fs, handled_fs)
        if libc.syscall(restrict, ruleset, 0) != 0:
            return 0
    finally:
        os.close(ruleset)
    return abi


def _allow(add_rule, ruleset, path, access, handled):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            access &= FILE_RIGHTS
        rule = struct.pack("=Qi", access & handled, fd)
        libc.syscall(add_rule, ruleset, 1, rule, 0)
    finally:
        os.close(fd)


def _expand(roots, hidden):
    """Readable roots, split into their entries wherever a hidden path lies below them."""
    hidden = [os.path.realpath(h) for h in hidden]
    out = []
    for root in roots:
        root = os.path.realpath(root)
        if any(h == root for h in hidden) or not os.path.exists(root):
            continue
        if any(h.startswith(root + os.sep) for h in hidden):
            out += _expand([os.path.join(root, e) for e in os.listdir(root)], hidden)
        else:
            out.append(root)
    return out


def cuda():
    """Open the GPU before Landlock and seccomp: the CUDA context, its device files and what the driver
    reads in /proc and /sys are taken now, so the student's code can use the GPU without being able to
    open those paths itself. Returns (what was found, the driver's library folders, which the driver
    loads from lazily and so must stay readable)."""
    import torch

    try:
        x = torch.ones(8, 8, device="cuda")
        (x @ x).sum().item()  # a context, a kernel and cuBLAS: the driver and the libraries are loaded now
    except Exception as e:  # whatever CUDA raised is what the job's owner must see
        return f"unavailable: {type(e).__name__}: {e}"[:300], []
    with open("/proc/self/maps") as maps:
        libraries = {os.path.dirname(line.split()[-1]) for line in maps if "libcuda" in line or "libnvidia" in line}
    return torch.cuda.get_device_name(), sorted(libraries)


def readable_roots():
    """What the child may read once torch is imported: Python, its packages, system libraries, devices."""
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots |= {p for p in sys.path if p and os.path.isdir(p)}
    return sorted(roots) + ["/usr/lib", "/usr/lib64", "/lib", "/lib64", "/dev/null", "/dev/zero", "/dev/urandom"]


# seccomp (linux/seccomp.h, linux/filter.h).
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}
DENIED = {
    "x86_64": {
        "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53, "accept4": 288,
        "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
        "chroot": 161, "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117,
        "setresgid": 119, "setgroups": 116, "setfsuid": 122, "setfsgid": 123, "shmget": 29, "shmat": 30,
        "shmctl": 31, "semget": 64, "msgget": 68, "memfd_create": 319, "mq_open": 240, "bpf": 321,
        "perf_event_open": 298, "keyctl": 250, "add_key": 248, "request_key": 249, "personality": 135,
        "userfaultfd": 323, "io_uring_setup": 425, "kexec_load": 246, "init_module": 175, "finit_module": 313,
        "open_by_handle_at": 304,
    },
    "aarch64": {
        "socket": 198, "connect": 203, "accept": 202, "bind": 200, "listen": 201, "socketpair": 199,
        "accept4": 242, "execve": 221, "execveat": 281, "ptrace": 117, "process_vm_readv": 270,
        "process_vm_writev": 271, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
        "chroot": 51, "setuid": 146, "setgid": 144, "setreuid": 145, "setregid": 143, "setresuid": 147,
        "setresgid": 149, "setgroups": 159, "setfsuid": 151, "setfsgid": 152, "shmget": 194, "shmat": 196,
        "shmctl": 195, "semget": 190, "msgget": 186, "memfd_create": 279, "mq_open": 180, "bpf": 280,
        "perf_event_open": 241, "keyctl": 219, "add_key": 217, "request_key": 218, "personality": 92,
        "userfaultfd": 282, "io_uring_setup": 425, "kexec_load": 104, "init_module": 105, "finit_module": 273,
        "open_by_handle_at": 265,
    },
}
SYS_CLONE = {"x86_64": 56, "aarch64": 220}
SYS_CLONE3 = {"x86_64": 435, "aarch64": 435}


def _bpf(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


def seccomp():
    """Install the syscall filter on every thread (TSYNC). Returns True when it is in force."""
    arch = platform.machine()
    if arch not in DENIED:
        return False
    LD, JEQ, JSET, RET = 0x20, 0x15, 0x45, 0x06
    eperm, enosys = SECCOMP_RET_ERRNO | 1, SECCOMP_RET_ERRNO | 38
    denied = sorted(DENIED[arch].values())
    prog = [_bpf(LD, 0, 0, 4), _bpf(JEQ, 1, 0, AUDIT_ARCH[arch]), _bpf(RET, 0, 0, eperm), _bpf(LD, 0, 0, 0)]
    for nr in denied:
        prog += [_bpf(JEQ, 0, 1, nr), _bpf(RET, 0, 0, eperm)]
    # clone3 hides its flags behind a pointer: refuse it so the C library falls back to clone.
    prog += [_bpf(JEQ, 0, 1, SYS_CLONE3[arch]), _bpf(RET, 0, 0, enosys)]
    # clone is allowed only for threads: a new process (fork) is refused.
    prog += [_bpf(JEQ, 0, 3, SYS_CLONE[arch]), _bpf(LD, 0, 0, 16), _bpf(JSET, 1, 0, CLONE_THREAD),
             _bpf(RET, 0, 0, eperm)]
    prog += [_bpf(RET, 0, 0, SECCOMP_RET_ALLOW)]
    code = b"".join(prog)
    buf = ctypes.create_string_buffer(code)
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buf))
    tsync = 1
    return libc.syscall(SYS_SECCOMP[arch], 1, tsync, fprog) == 0
