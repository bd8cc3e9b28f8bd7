"""One submission's sandbox session, and the proxies through which checks call the student's functions.

The session keeps the extracted code, starts a child, loads the code there and restarts the child after a
crash or a timeout. A call that hits a limit trips the current check, so later calls of that check (for
instance hypothesis shrinking) fail at once instead of waiting again.
"""
import fnmatch
import re

from graders.problems import (
    InterfaceError,
    LimitExceeded,
    MachineProblem,
    NotGradable,
    SignatureMismatch,
    StudentError,
)
from graders.sandbox.worker import NOT_ROOT, Died, Timeout, Worker, Zygote

MAX_REACHED = 100  # names one call's record may hold


class Session:
    def __init__(self, modules, texts, limits, watch=()):
        self.modules = modules        # [{"name", "file", "statements": [...]}]
        self.texts = texts            # file label -> text, for the child's tracebacks
        self.limits = limits
        self.watch = list(watch)      # API patterns rules forbid: the child records which of them each call reached
        self.check = None             # the check running now: what it reached is recorded under its name
        self.watching = False         # whether its calls are watched (it checks a file a rule covers)
        self.reached = {}             # check -> the watched names its calls reached (graders/rules.py)
        self.unrecorded = set()       # checks a reply came back for without a well-formed record
        self.captures = []            # sets that also get what calls reach (Submission.memo: a value's computation)
        self.worker = None
        self.protections = None       # what the first child reported: the same for every restart
        self.loaded = None            # the child's load report: {"errors": [...], "names": {...}}
        self.loaded_in = None         # the worker that `loaded` describes
        self.load_failed = None
        self.spent = 0.0              # the student's time so far (clock.py), against submission_seconds
        self.tripped = None
        self.generation = 0           # counts stopped children: a handle is good only in the child that made it
        self.zygote = None            # started by the second lost child, when no batch's zygote is there

    def start(self):
        """Start the child now, so it imports torch while the grader imports its own modules."""
        self.worker = Worker(self.limits).start()
        return self

    def close(self):
        if self.worker:
            self.worker.stop()
            self.worker = None
            self.generation += 1  # the child's objects are gone with it

    def end(self):
        """Stop the child, and the zygote this session started, if any."""
        self.close()
        if self.zygote:
            self.zygote.stop()
            self.zygote = None

    def _restarts_fork(self):
        """A submission that keeps losing its child (it exits or crashes in every check) would pay a fresh
        Python and torch import per check: from the second loss on, children fork from a zygote (as in a batch),
        ~10 ms each instead of ~1 s."""
        if self.generation == 2 and Zygote.address is None and not self.limits.gpu:
            try:
                self.zygote = Zygote(preload=self.limits.preload)
            except (OSError, RuntimeError):
                self.zygote = None  # children start afresh, as before

    def warnings(self):
        """Protections this machine could give but the child ran without, in words for course staff."""
        p = self.protections
        if not p:
            return []
        missing = []
        if not p["dedicated_uid"] and p.get("no_dedicated_uid_because") != NOT_ROOT:
            missing.append(f"no dedicated uid: {p['no_dedicated_uid_because']}")
        if not p["landlock"]:
            missing.append("no Landlock: student code can read any file the grader's uid can, the reference too")
        if not p["seccomp"]:
            missing.append("no seccomp filter: student code can open sockets and start processes")
        return [f"sandbox warning: {m}" for m in missing]

    def begin_check(self, check=None, watching=False):
        self.tripped = None
        self.check, self.watching = check, watching and bool(self.watch)

    def names(self, module):
        return self._load()["names"].get(module, {})

    def load_errors(self):
        return self._load()["errors"]

    def call(self, target, fn, args=(), kwargs=None, seed=0, keep=False, calls=None, label=None, progress=None):
        """Run `fn` of module `target` (a name) or of a kept object (a handle) in the child.

        `keep` leaves the result in the child and returns its handle; `calls`, a list of (args, seed) pairs,
        runs `fn` once per pair and returns the list of results. `label` names the call in feedback; `progress`
        gets what a training job reports meanwhile (graders/runners/progress.py: shown, never scored).
        """
        if self.tripped:
            raise self.tripped
        if self.spent >= self.limits.submission_seconds:
            raise self._trip(LimitExceeded(
                f"the submission used up its time budget of {self.limits.submission_seconds:g} s; {fn} was not run"))
        self._load()
        request = {"op": "call", "target": target, "fn": fn, "args": list(args), "kwargs": kwargs or {}, "seed": seed,
                   "keep": keep, "calls": [[list(a), s] for a, s in calls] if calls is not None else None,
                   "watch": self.watching}
        reply = self._request(request, label or fn, progress)
        self._record(reply.get("reached", False))
        if "error" in reply:
            problem = self._problem(label or fn, reply["error"])
            if calls is not None:
                i = reply["error"].get("call")  # which of the calls failed, if the child says so sanely
                problem.call_index = i if type(i) is int and 0 <= i < len(calls) else None
            raise problem
        got = reply["ok"]
        if calls is not None and (type(got) is not list or len(got) != len(calls)):
            raise StudentError(f"the sandbox answered {len(calls)} calls of {fn} with something else than "
                               f"{len(calls)} results")
        return got

    def _record(self, reached):
        """Keep what a call reached: only names this session watches; anything else is a missing record."""
        if not self.watching:
            return
        if type(reached) is list and len(reached) <= MAX_REACHED and all(
                type(n) is str and any(fnmatch.fnmatchcase(n, p) for p in self.watch) for n in reached):
            self.reached.setdefault(self.check, set()).update(reached)
            for names in self.captures:
                names.update(reached)
        else:
            self.unrecorded.add(self.check)

    def write(self, files):
        """Put input files ({name: text}) in the child's working directory for the calls that follow."""
        self._load()
        reply = self._request({"op": "write", "files": files}, "writing input files")
        if "error" in reply:
            raise RuntimeError(f"the sandbox refused input files: {reply['error']['message']}")

    def _load(self):
        """Load the code into the current child; a load that crashes or hangs fails every later call."""
        if self.load_failed:
            raise self.load_failed
        if self.worker is None:
            self.start()
        if self.loaded_in is not self.worker:
            self.loaded_in = self.worker
            request = {"op": "load", "modules": self.modules, "texts": self.texts, "watch": self.watch}
            try:
                reply = self._request(request, "loading the submission")
                self.protections = self.protections or self.worker.protections
                if "error" in reply:
                    raise StudentError(f"loading the submission failed: {reply['error']['message']}")
                self.loaded = reply
            except (LimitExceeded, StudentError, MachineProblem) as e:
                e.case = ""  # the load failed, not the running check's input: `about` must not name that input
                self.load_failed = e
                raise
        return self.loaded

    def _request(self, request, what, progress=None):
        from graders.sandbox import wire  # not at import time: see worker.py

        try:
            return self.worker.request(request, self.limits.call_seconds, progress)
        except Timeout as e:
            problem = self._timeout(what, e)
        except Died as e:
            problem = StudentError(f"the process running {what} {e}")
            problem.student_output = self.worker.output_tail().strip() or None
        except wire.WireError as e:
            problem = StudentError(f"{what} sent back data the grader refuses ({e})")
        finally:
            self.spent += self.worker.charged
        self.close()
        self._restarts_fork()
        raise self._trip(problem)

    def _timeout(self, what, e):
        """The problem a Timeout is: the student's code used its time (LimitExceeded), or the machine did not run it
        (MachineProblem: never the student's; the grade is to be done again)."""
        if e.why == "student":
            return LimitExceeded(f"{what} was stopped after {e.seconds:g} s of its own time (computing or waiting: "
                                 "time the machine spent on other work is not counted)")
        started = "the sandbox did not start" if e.why == "startup" else f"{what} did not finish"
        return MachineProblem(f"{started}: the machine grading it was too busy to run it (not a verdict on your "
                              "code; course staff will grade it again)")

    def _trip(self, problem):
        self.tripped = problem
        return problem

    def _problem(self, fn, err):
        where = err.get("where") or []
        at = ""
        if where:
            file, line, func, text = where[-1]
            at = f" at {file} line {line} (in {func}): {text}"
        kind, kind_msg = err["kind"], f"{err['type']}: {err['message']}"
        if kind == "memory":
            return self._trip(LimitExceeded(f"{fn} used more than the {self.limits.memory_mib} MiB memory limit{at}"))
        if kind == "needs_gpu":
            return InterfaceError(f"{fn} needs a GPU, but grading runs on the CPU ({kind_msg}){at}. "
                                  "Put new tensors on the device of the inputs (x.device) instead of 'cuda'.")
        if kind == "interface":
            return InterfaceError(err["message"])
        if kind == "output":
            return StudentError(f"{fn} returned something the grader cannot receive ({kind_msg})")
        if kind == "file_size":
            return self._trip(LimitExceeded(
                f"{fn} printed or wrote more than the sandbox allows ({self.limits.file_mib} MiB per file, "
                f"{self.limits.quota_mib} MiB in all){at}"))
        if kind == "forbidden":
            return StudentError(f"{fn} tried something the sandbox forbids ({kind_msg}){at}. Graded code may not "
                                "use the network, start processes, or touch files outside its working directory.")
        if err["type"] == "TypeError" and not where:
            sig = self._signature(fn)
            return SignatureMismatch(f"{fn} could not be called with the handout's arguments ({err['message']})"
                                  + (f"; your definition is {fn}{sig}" if sig else ""))
        if kind == "recursion":
            return StudentError(f"{fn} recursed without end ({kind_msg}){at}")
        return StudentError(f"{fn} raised {kind_msg}{at}{self._why_undefined(err)}")

    def _why_undefined(self, err):
        """A NameError for a global whose defining statement failed when the file was loaded says why."""
        missing = re.match(r"name '(\w+)' is not defined", err["message"]) if err["type"] == "NameError" else None
        for failed in self.loaded["errors"] if missing else ():
            if missing.group(1) in failed["names"]:
                e = failed["error"]
                return (f" (the statement defining {missing.group(1)} at {failed['file']} line {failed['lineno']} "
                        f"failed: {e.get('type', 'Error')}: {e['message']})")
        return ""

    def _signature(self, fn):
        for names in self.loaded["names"].values():
            if fn in names:
                return names[fn]["signature"]
        return None


class StudentModule:
    """A student file as checks see it: `a2s2.self_attention(Q, K, V)` runs in the sandbox."""

    def __init__(self, session, module, source, extraction, classes=(), used=None):
        self._session, self._module, self._source, self._extraction = session, module, source, extraction
        self._classes = set(classes)  # names the checks build objects from; every other name is a function
        self._used = used or (lambda name: None)  # told each name a check uses, so its notes go with the check

    def __getattr__(self, fn):
        if fn.startswith("_"):
            raise AttributeError(fn)
        return StudentFunction(self, fn)

    def _require(self, fn):
        self._used(fn)
        if self._source.problem:
            raise NotGradable(self._source.problem)
        names = self._session.names(self._module)
        want = "class" if fn in self._classes else "function"
        if fn in names:
            if names[fn]["kind"] != want:
                raise NotGradable(f"{fn} in {self._source.name} is a {names[fn]['kind']}, not a {want}")
            return want
        if fn in self._extraction.broken:
            raise NotGradable(f"{fn} could not be graded: {self._extraction.broken[fn]}")
        for err in self._session.load_errors():
            if fn in err["names"]:
                e = err["error"]
                raise NotGradable(f"defining {fn} failed at {err['file']} line {err['lineno']}: "
                                  f"{e.get('type', 'Error')}: {e['message']}")
        defined = ", ".join(self._extraction.functions) or "none"
        raise NotGradable(f"{self._source.name} has no function {fn}; it defines: {defined}")


class StudentFunction:
    """A student's function or class; calling a class builds an instance that stays in the sandbox."""

    def __init__(self, module, fn):
        self.module, self.fn = module, fn

    def __call__(self, *args, **kwargs):
        session = self.module._session
        if self.module._require(self.fn) == "class":
            made = session.call(self.module._module, self.fn, args, kwargs, keep=True)
            return StudentObject(session, made["handle"], made["type"], lambda: self.module._used(self.fn))
        return session.call(self.module._module, self.fn, args, kwargs)

    def each(self, arguments, **kwargs):
        """The function once per tuple of `arguments` (each call seeded as a single call is), in one round trip:
        the list of results. A call that fails raises its problem, with `call_index` saying which."""
        self.module._require(self.fn)
        return self.module._session.call(self.module._module, self.fn, (), kwargs,
                                         calls=[(args, 0) for args in arguments])


class StudentObject:
    """An object that lives in the sandbox (a Dataset, an nn.Module): `ds[3]`, `model(x)` and
    `model.load_state_dict(sd)` run there; only plain data comes back."""

    def __init__(self, session, handle, type_name, used=None):
        self._session, self._handle, self._type = session, handle, type_name
        self._generation = session.generation
        self._used = used or (lambda: None)  # a method call uses the student's class, as building it did

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._call(name, args, kwargs)

    def __getitem__(self, index):
        return self._call("__getitem__", (index,), {})

    def __call__(self, *args, **kwargs):
        return self._call("__call__", args, kwargs)

    def draws(self, fn, calls):
        """`fn` once per (args, seed) pair, in one round trip: the list of results."""
        return self._call(fn, (), {}, calls=calls)

    def _call(self, fn, args, kwargs, calls=None):
        self._used()
        if self._generation != self._session.generation:
            raise StudentError(f"the {self._type} object was lost when the sandbox restarted after an earlier "
                               "problem; fix that one first")
        label = {"__call__": f"{self._type}.forward", "__getitem__": f"{self._type}.__getitem__"}.get(fn)
        return self._session.call(self._handle, fn, args, kwargs, calls=calls, label=label or f"{self._type}.{fn}")
