"""The sandbox child: loads the student's code and answers calls with plain data.

Started as `python -P -s child.py` (`-I` but for `-E`, so that the scrubbed environment's PYTHONHASHSEED
holds) in a scratch directory, it reads its configuration from the first line of
stdin, confines itself (confine.py) and reports which protections took effect. It talks to the grader over
the pipes it was started with and sends the student's prints to a log file. It loads `wire.py` and
`confine.py` by path and imports nothing else of the grader, and it refuses imports of `graders` and of the
course packs (the configuration's `hidden_modules`).
"""
import ast
import importlib.abc
import inspect
import json
import linecache
import os
import random
import signal
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confine  # noqa: E402
import wire  # noqa: E402

del sys.path[0]

PACKAGE = "submission"
MAX_OBJECTS = 10000
MAX_NAMES = 2000
# What torch says when code asks for a GPU that is not there (CPU build, or a CUDA build without a GPU).
GPU_HINTS = ("not compiled with CUDA", "NVIDIA driver", "No CUDA GPUs are available", "CUDA driver")


class HideGrader(importlib.abc.MetaPathFinder):
    """Student code must not reach the reference or the checks by import: the engine and the course packs."""

    def __init__(self, hidden):
        self.hidden = frozenset(hidden)

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def load(request, files, report):
    """Run the extracted statements of each module; one failing statement costs only what depends on it.

    Modules load in the spec's order, each also as a member of a package PACKAGE, so a later file can
    import an earlier one either way the handouts do it: `import attention` or `from .attention import X`.
    A module that names its own `package` (a training job's files) is only a member of that one, where its
    neighbours import it relatively, and that package's `report` sends the job's progress (`report`).
    """
    errors, names, packages = [], {}, {}
    for text_file, text in request["texts"].items():
        linecache.cache[text_file] = (len(text), None, text.splitlines(True), text_file)
        files.add(text_file)
    for mod in request["modules"]:
        home = mod.get("package", PACKAGE)
        if home not in packages:
            packages[home] = sys.modules[home] = types.ModuleType(home)
            packages[home].__path__ = []
            if home != PACKAGE:
                packages[home].report = report
        module = types.ModuleType(f"{home}.{mod['name']}")
        module.__file__, module.__package__ = mod["file"], home
        sys.modules[module.__name__] = module
        if home == PACKAGE:
            sys.modules[mod["name"]] = module
        for alias in mod.get("aliases", ()):  # a file graded under the spec's name, which its neighbours import
            sys.modules.setdefault(alias, module)
        setattr(packages[home], mod["name"], module)
        for st in mod["statements"]:
            try:
                tree = ast.parse(st["source"], st["file"])
                ast.increment_lineno(tree, st["lineno"] - 1)
                exec(compile(tree, st["file"], "exec"), module.__dict__)
            except BaseException as e:  # noqa: BLE001 - any failure of student code is reported, not raised
                errors.append({"file": st["file"], "lineno": st["lineno"], "names": st["names"],
                               "error": describe(e, files)})
        callables = [(k, v) for k, v in vars(module).items() if callable(v) and not k.startswith("__")]
        key = mod["name"] if home == PACKAGE else module.__name__
        names[key] = {k: signature(v) for k, v in callables[:MAX_NAMES]}
    return {"errors": errors, "names": names}


class Watch:
    """Which of the watched torch functions and modules (a spec rule's forbidden APIs, by name) the student's code
    reaches during one call, sent back as names with the reply: a torch function mode sees every torch function
    the student's code calls, however it found it (getattr on a built name, importlib); a global forward pre-hook
    sees every module of a watched class (or a subclass) run. A record the student's code tampered with (the mode
    gone from the stack) comes back as None: the grader flags it for staff. One per child: a later load's names
    replace the earlier's, and the hook is registered once (a second would run on every module call for nothing)."""

    def __init__(self):
        import torch
        from torch.overrides import TorchFunctionMode

        self.names, self.functions, self.classes, self.reached, self.hook = [], {}, {}, None, None
        watch = self

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                name = watch.functions.get(func)
                if name is not None and watch.reached is not None:
                    watch.reached.add(name)
                return func(*args, **(kwargs or {}))

        self.mode, self.stack = Mode(), torch._C

    def look_for(self, names):
        """Watch `names` (qualified names, already expanded by the grader) from now on; [] watches nothing."""
        import torch

        self.names, self.functions, self.classes = list(names), {}, {}
        for name in self.names:
            obj = resolve(name)
            if isinstance(obj, type):
                self.classes[obj] = name
            elif obj is not None:
                self.functions[obj] = name
        if self.classes and self.hook is None:
            self.hook = torch.nn.modules.module.register_module_forward_pre_hook(self._module_runs)

    def _module_runs(self, module, args):
        if self.reached is not None:
            self.reached.update(name for cls, name in self.classes.items() if isinstance(module, cls))

    def around(self, run, *args):
        """`run(*args)`'s reply with the names it reached under "reached" (None when the record was tampered with)."""
        base = self.stack._len_torch_function_stack()
        self.reached = set()
        if self.functions:
            self.mode.__enter__()
        try:
            reply = run(*args)
        finally:
            intact = self.stack._len_torch_function_stack() == base + bool(self.functions) and (
                not self.functions or self.stack._get_function_stack_at(base) is self.mode)
            while self.stack._len_torch_function_stack() > base:
                self.stack._pop_torch_function_stack()
            reached, self.reached = self.reached, None
        reply["reached"] = sorted(reached) if intact else None
        return reply


def resolve(name):
    """The object a dotted name stands for among the modules imported so far (torch's, and what the student's code
    imported when it loaded), or None: watching never imports anything."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        obj = sys.modules.get(".".join(parts[:i]))
        if obj is not None:
            for attr in parts[i:]:
                obj = getattr(obj, attr, None)
            return obj
    return None


def signature(obj):
    if inspect.isfunction(obj) or inspect.isclass(obj):
        try:
            return {"kind": "class" if inspect.isclass(obj) else "function", "signature": str(inspect.signature(obj))}
        except (TypeError, ValueError):
            return {"kind": "function", "signature": "(...)"}
    return {"kind": "value", "signature": None}


def describe(e, files):
    """The exception in the student's terms: type, message and the student's own frames."""
    where, tb = [], e.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in files:
            line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
            where.append([code.co_filename, tb.tb_lineno, code.co_name, line])
        tb = tb.tb_next
    try:
        message = str(e)[:2000]
    except BaseException:  # noqa: BLE001 - a student's exception may fail to print itself
        message = f"<{type(e).__name__} whose message cannot be printed>"
    kind = "exception"
    if isinstance(e, MemoryError) or "can't allocate memory" in message or "not enough memory" in message:
        kind = "memory"
    elif isinstance(e, RecursionError):
        kind = "recursion"
    elif any(h in message for h in GPU_HINTS):
        kind = "needs_gpu"
    elif isinstance(e, OSError) and e.errno in (27, 28):  # EFBIG (RLIMIT_FSIZE), ENOSPC (the scratch quota)
        kind = "file_size"
    elif isinstance(e, PermissionError):
        kind = "forbidden"
    return {"kind": kind, "type": type(e).__name__, "message": message, "where": where[-5:]}


def write(given):
    """Input files the grader hands the student's code (a dev set to read), into the working directory."""
    for name, text in given.items():
        if os.path.basename(name) != name or name.startswith("."):
            return {"error": {"kind": "interface", "type": "ValueError", "where": [], "message": f"bad name {name!r}"}}
        with open(name, "w", encoding="utf-8") as f:
            f.write(text)
    return {"ok": None}


def seed_everything(seed):
    import torch

    random.seed(seed)
    if torch.cuda.is_initialized():
        torch.manual_seed(seed)
    else:  # the CPU generator alone: torch.manual_seed also queues seeds for every device type, 100 µs a call
        torch.default_generator.manual_seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)


def call(request, files, objects):
    """Call a function of a student module, or a method of an object kept here (`target` is then its handle).

    With `keep`, the result stays here and the grader gets a handle to it; with `calls`, the same callable
    runs once per (args, seed) pair and the grader gets the list of results (statistical checks draw
    thousands of samples, one request instead of thousands).
    """
    target = request["target"]
    owner = objects.get(target) if type(target) is int else sys.modules.get(target)
    fn = getattr(owner, request["fn"], None)
    if owner is None or not callable(fn):
        what = "an object the sandbox still holds" if owner is None else "the submission"
        return {"error": {"kind": "interface", "type": "AttributeError", "where": [],
                          "message": f"{request['fn']} is not a function of {what}"}}
    results, calls = [], request.get("calls")
    for args, seed in [[request["args"], request["seed"]]] if calls is None else calls:
        seed_everything(seed)
        try:
            results.append(fn(*args, **request["kwargs"]))
        except BaseException as e:  # noqa: BLE001
            return {"error": {**describe(e, files), "call": len(results)}}
    if request.get("keep"):
        if len(objects) >= MAX_OBJECTS:
            return {"error": {"kind": "exception", "type": "RuntimeError", "where": [],
                              "message": f"more than {MAX_OBJECTS} objects"}}
        objects[len(objects) + 1] = results[0]
        return {"ok": {"handle": len(objects), "type": type(results[0]).__name__}}
    return {"ok": results[0] if calls is None else results}


class Progress:
    """A training job's progress (a dict of numbers) as a frame of its own between a request and its reply, at most
    one every INTERVAL seconds; the grader shows it and never scores it (graders/runners/progress.py)."""

    INTERVAL = 0.5

    def __init__(self, proto_out, max_bytes):
        self.proto_out, self.max_bytes, self.last = proto_out, max_bytes, 0.0

    def __call__(self, fields):
        now = time.monotonic()
        if now - self.last >= self.INTERVAL and type(fields) is dict:
            self.last = now
            self.proto_out.write(wire.encode({"progress": {k: v for k, v in list(fields.items())[:8]
                                                           if type(k) is str and type(v) in (int, float)}},
                                             self.max_bytes))


def serve(proto_in, proto_out, config):
    files, objects, watch = set(), {}, Watch()
    report = Progress(proto_out, config["max_bytes"])
    read_exact = exact_reader(proto_in)
    while True:
        try:
            request = wire.decode(read_exact, config["max_bytes"])
        except EOFError:
            return
        op = request["op"]
        if op == "load":
            reply = load(request, files, report)
            watch.look_for(request.get("watch") or [])
        elif op == "write":
            reply = write(request["files"])
        elif watch.names and request.get("watch"):
            reply = watch.around(call, request, files, objects)
        else:
            reply = call(request, files, objects)
        try:
            frame = wire.encode(reply, config["max_bytes"])
        except Exception as e:  # noqa: BLE001 - whatever the student returned, the grader gets a reply
            kind = "memory" if isinstance(e, MemoryError) else "output"
            frame = wire.encode({"error": {"kind": kind, "type": type(e).__name__, "message": str(e)[:500],
                                           "where": []}}, config["max_bytes"])
        proto_out.write(frame)


def exact_reader(f):
    def read_exact(n):
        data = f.read(n)
        if len(data) < n:
            raise EOFError
        return data
    return read_exact


def preload(modules):
    """Import the libraries the spec names (transformers, peft) now, before the student's clock starts: importing
    them is the grader's cost, and on a busy machine it takes longer than a call may. Submodules are named one by
    one (a library that loads lazily does its work when an attribute is first read)."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:  # the grader's environment, before any student code: say what to install
            raise SystemExit(f"graders: this Python cannot import {name}, which the grader imports before the "
                             f"submission ({e}). Install the grader's Hugging Face extra (pip install "
                             "'graders[hf]'; in a self-check kit: pip install -r requirements-hf.txt).") from None


def main():
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    config = json.loads(proto_in.readline(1 << 16))
    # Namespaces first: once the process is not dumpable, /proc/self/uid_map is no longer ours to write. Whether the
    # code runs as root, not which slot's uid: results.json must not change with which slot was free.
    protections = {"as_root": os.getuid() == 0, **confine.namespaces(config["workdir"], config["quota_mib"])}
    protections.update(confine.process_flags())
    os.chdir(config["workdir"])
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    log = os.open(config["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past RLIMIT_FSIZE fails with EFBIG instead
    protections["rlimits"] = confine.rlimits(config["memory_mib"], config["cpu_seconds"], config["file_mib"],
                                             config["dedicated_uid"], config["gpu"])
    sys.meta_path.insert(0, HideGrader(config["hidden_modules"]))
    import torch

    torch.set_num_threads(config["threads"])
    preload(config["preload"])
    torch.backends.cpu.get_cpu_capability()  # initialise cpuinfo now: Landlock hides /proc and /sys later
    readable = confine.readable_roots()
    if config["gpu"]:
        protections["cuda"], libraries = confine.cuda()
        readable += libraries
    protections["threads"] = len(os.listdir("/proc/self/task"))
    protections["landlock"] = confine.landlock(readable, [os.getcwd(), config["log"], os.devnull], config["hidden"])
    protections["seccomp"] = confine.seccomp()
    if "tempfile" in sys.modules:  # a preload (here or in the zygote) may have cached /tmp, which Landlock forbids:
        sys.modules["tempfile"].tempdir = None  # the student's tempfile then finds a directory it may write to
    proto_out.write(wire.encode({"ready": torch.__version__, "protections": protections}, config["max_bytes"]))
    serve(proto_in, proto_out, config)


if __name__ == "__main__":
    main()
