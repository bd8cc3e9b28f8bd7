"""Handout rules (spec `rules`): library shortcuts in code the course wants written from scratch.

Two witnesses, because outputs alone cannot tell `self_attention` written by hand from four lines around
`F.scaled_dot_product_attention`:
- the source: the graded statements of a file (what extraction keeps, so a comment, a string or an experiment that
  graded code never reads is not looked at; of a file whose classes students name, PA2's, the classes the checks ran),
  with names resolved through imports and aliases
  (`import torch.nn.functional as F`, `from torch.nn import functional`, `sdpa = F.scaled_dot_product_attention`,
  `getattr(F, "name")`) and class bases (`class Block(nn.TransformerEncoderLayer)`);
- the run: which watched torch functions and modules each of the grader's calls reached in the sandbox (child.py
  `Watch`), which catches what the source hides (`getattr` on a built string, `importlib`).
A use either shows breaks the rule. The run's record comes from the child, so it may add a verdict (a student can
only hurt themselves by forging it) but its silence never clears a use the source shows; where the two disagree,
or the record is missing, staff are told.
"""
import ast
import fnmatch
import inspect
import sys
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Use:
    api: str         # the forbidden API as the rule knows it (torch.nn.functional.scaled_dot_product_attention)
    written: str     # how the source names it (F.scaled_dot_product_attention)
    file: str        # the cell or file label
    line: int
    names: tuple     # the graded names the statement holding it defines (self_attention)
    how: str         # "use" or "subclass"

    def text(self):
        what = "subclasses" if self.how == "subclass" else "uses"
        return f"{self.file} line {self.line} (in {', '.join(self.names)}) {what} {self.api} (as `{self.written}`)"


def lookup(name):
    """The object a dotted name stands for among the modules already imported, or None. Attributes are read
    statically: a name from a student's source must not run a module's lazy `__getattr__`."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        obj = sys.modules.get(".".join(parts[:i]))
        if obj is not None:
            break
    else:
        return None
    for attr in parts[i:]:
        try:
            obj = inspect.getattr_static(obj, attr)
        except AttributeError:
            return None
    return obj


def expand(pattern):
    """The qualified names a forbid pattern names: itself, or with a `*` in its last part, the matching members."""
    parent, _, last = pattern.rpartition(".")
    if "*" not in last:
        return [pattern]
    owner = lookup(parent)
    return [f"{parent}.{n}" for n in sorted(dir(owner)) if fnmatch.fnmatchcase(n, last)] if owner else []


class Forbidden:
    """A rule's forbidden APIs, matched by identity where the name resolves (`torch.nn.modules.transformer.
    TransformerEncoderLayer` is `torch.nn.TransformerEncoderLayer`) and by pattern where it does not."""

    def __init__(self, rule):
        self.rule = rule
        self.names = [n for p in rule.forbid for n in expand(p) if not self._allowed(n)]
        self.objects = {id(o): n for n in self.names if (o := lookup(n)) is not None}

    def _allowed(self, name):
        return any(fnmatch.fnmatchcase(name, a) for a in self.rule.allow)

    def match(self, qualname):
        """The forbidden API `qualname` or one of its owners is (`X.forward` of a forbidden X), or None."""
        parts = qualname.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            obj = lookup(name)
            found = self.objects.get(id(obj)) if obj is not None else None
            if found is None and any(fnmatch.fnmatchcase(name, p) for p in self.rule.forbid):
                found = name
            if found and not self._allowed(name):
                return found
        return None

    def ran(self, names):
        """Those of the run's reached names (the child's expansion of the patterns) this rule forbids."""
        return sorted(n for n in names if any(fnmatch.fnmatchcase(n, p) for p in self.rule.forbid)
                      and not self._allowed(n))


def aliases(trees):
    """Local name -> qualified name, from the imports and plain assignments of the graded statements (twice over, so
    an alias of an alias resolves too). A `*` import binds no name extraction can see, so it is never graded code."""
    names = {}
    nodes = [n for tree in trees for n in ast.walk(tree)]
    for _ in range(2):
        for node in nodes:
            if isinstance(node, ast.Import):
                for a in node.names:
                    names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    names[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                resolved = qualified(node.value, names)
                if resolved:
                    names[node.targets[0].id] = resolved
    return names


def qualified(node, names):
    """The dotted name an expression stands for (`F.scaled_dot_product_attention`, `getattr(F, "x")`), or None."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif _getattr_by_name(node):
            parts.append(node.args[1].value)
            node = node.args[0]
        elif isinstance(node, ast.Name) and node.id in names:
            return ".".join([names[node.id], *reversed(parts)])
        else:
            return None


def _getattr_by_name(node):
    """`getattr(x, "name")`: an attribute read under another spelling."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))


def parsed(extraction):
    """(statement, tree) for each graded statement, its line numbers those of the student's file."""
    out = []
    for st in extraction.statements:
        try:
            tree = ast.parse(st.source)
        except SyntaxError:
            continue
        ast.increment_lineno(tree, st.lineno - 1)
        out.append((st, tree))
    return out


def static_uses(rule, extraction):
    """Where the graded code of the rule's scope uses one of its forbidden APIs."""
    forbidden, statements = Forbidden(rule), parsed(extraction)
    names = aliases([tree for _, tree in statements])
    scope = closure(extraction, rule.within) if rule.within else None
    uses = []
    for st, tree in statements:
        if scope is not None and not scope & set(st.names):
            continue
        uses += _uses_in(tree, st, forbidden, names)
    return uses


def _uses_in(tree, st, forbidden, names):
    bases = {id(b) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for b in node.bases}
    aliasing = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1
                and isinstance(n.targets[0], ast.Name)}
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        api = None
        if isinstance(node, (ast.Attribute, ast.Name, ast.Call)) and id(node) not in aliasing \
                and not isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
            resolved = qualified(node, names)
            api = forbidden.match(resolved) if resolved else None
        if api:
            found.append(Use(api, ast.unparse(node), st.file, node.lineno, tuple(st.names),
                             "subclass" if id(node) in bases else "use"))
        else:
            todo += list(ast.iter_child_nodes(node))
    return sorted(found, key=lambda u: u.line)


def closure(extraction, names):
    """`names` and the graded names their definitions read, transitively."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += extraction.reads.get(name, ())
    return seen


def watched(spec, files):
    """The qualified names the sandbox running `files` watches for (child.py `Watch`): [] when no rule applies.
    Patterns are expanded here, with torch imported (the checks import it anyway), so the child only looks names
    up."""
    patterns = sorted({p for r in spec.rules if r.file in files for p in r.forbid})
    if patterns:
        import torch.nn  # noqa: F401 - lookup reads only modules already imported
    return sorted({n for p in patterns for n in expand(p)})


def run_sees(api):
    """Whether the sandbox's record can show `api` running (child.py `Watch`): a torch module class (the forward
    hook) or a function torch's function mode dispatches. A plain Python function of another library (transformers'
    apply_rotary_pos_emb) never shows in the run: the source is its only witness, and the run's silence about it is
    no sign of tampering."""
    import torch
    from torch.overrides import get_overridable_functions

    obj = lookup(api)
    if isinstance(obj, type):
        return issubclass(obj, torch.nn.Module)
    return obj is not None and any(obj is f for fs in get_overridable_functions().values() for f in fs)


def cost_words(rule):
    if rule.cost == "flag":
        return "flagged for course staff, no points lost"
    if rule.cost == "zero":
        return "the checks that ran this code score 0"
    return f"{rule.cost.deduct:g} points off"


def judge(spec, submission, outcomes):
    """Each rule's verdict on the graded submission, as plain data for results.json; a `zero` rule's cost is
    applied to `outcomes` here, a `deduct` rule's by the result's score (graders/results.py)."""
    verdicts = []
    for rule in spec.rules:
        if submission.intake.files[rule.file].path is None:
            continue
        verdict = _verdict(rule, spec, submission, outcomes)
        if verdict:
            verdicts.append(verdict)
    return verdicts


def _verdict(rule, spec, submission, outcomes):
    extraction, forbidden = submission.extractions[rule.file], Forbidden(rule)
    session = submission.session_of(rule.file)
    checks = [c for p in spec.parts if p.file == rule.file for c in p.checks if c.name in outcomes]
    uses = static_uses(rule, extraction)
    if spec.source(rule.file).any_classes and not rule.within:
        # students name their own classes (PA2), so every class is extracted; graded are those the checks ran
        ran = closure(extraction, {n for c in checks for n in submission.used.get(c.name, {}).get(rule.file, ())})
        uses = [u for u in uses if ran & set(u.names)]
    exercised, suspicions = {}, []
    scope = closure(extraction, rule.within) if rule.within else None
    for check in checks:
        called = closure(extraction, submission.used.get(check.name, {}).get(rule.file, ()))
        # what a check's calls reached counts where they ran code the rule covers
        ran = forbidden.ran(session.reached.get(check.name, ())) if scope is None or scope & called else []
        seen = [u for u in uses if called & set(u.names)]
        if ran or seen:
            exercised[check.name] = {"ran": ran, "uses": [u.text() for u in seen]}
        if check.name in session.unrecorded:
            suspicions.append(f"{check.name}: the sandbox's record of what ran is missing or garbled")
        if ran and not seen:
            suspicions.append(f"{check.name}: the run reached {', '.join(ran)}, which the graded source it ran does "
                              "not name (indirection: getattr on a built name, importlib, ...)")
    recorded = [c for c in checks if c.name in session.reached]
    runnable = sorted({u.api for u in uses if run_sees(u.api)})
    if runnable and recorded and not any(e["ran"] for e in exercised.values()):
        suspicions.append(f"the source uses {', '.join(runnable)} but no check's run reached any of the rule's APIs "
                          "(a branch the checks never take, or a record tampered with)")
    broken = bool(uses) or any(e["ran"] for e in exercised.values())
    if not broken and not suspicions:
        return None
    lost = _apply(rule, exercised, outcomes, spec) if broken else 0.0
    return {"rule": rule.id, "file": rule.file, "source": rule.source, "broken": broken,
            "cost": rule.cost if isinstance(rule.cost, str) else "deduct", "points": lost,
            "uses": [asdict(u) | {"text": u.text()} for u in uses], "checks": exercised, "suspicions": suspicions}


def _apply(rule, exercised, outcomes, spec):
    """Points the rule takes: `deduct`'s (taken off the total), or the points of the passed checks `zero` zeroes.
    Every check that ran the code says so in its feedback unless the rule only flags."""
    from graders.check_kinds import CheckKind
    from graders.plugin import Outcome

    if rule.cost == "flag":
        return 0.0
    points = {c.name: c.points for p in spec.parts for c in p.checks}
    lost = rule.cost.deduct if rule.cost != "zero" else 0.0
    for name, seen in exercised.items():
        what = "; ".join(seen["uses"]) or f"the run reached {', '.join(seen['ran'])}"
        line = f"Handout rule {rule.id} ({rule.source}): {what}; {cost_words(rule)}."
        old, said = outcomes[name], "\n".join(filter(None, [line, outcomes[name].output]))
        if rule.cost == "zero" and old.passed:
            lost += points[name]
            outcomes[name] = Outcome(False, said, CheckKind.RULE)
        else:
            old.output = said
    return lost


def notices(verdicts):
    """The lines a student sees about the rules that cost them points (flags are for staff only)."""
    return [f"Handout rule {v['rule']} broken ({v['source']}): " + "; ".join(evidence(v))
            + f"; {v['points']:g} points lost" for v in verdicts if v["broken"] and v["cost"] != "flag"]


def evidence(verdict, most=3):
    """What shows a rule broken, in words: the source's uses, else what the run reached."""
    ran = sorted({a for e in verdict["checks"].values() for a in e["ran"]})
    return [u["text"] for u in verdict["uses"][:most]] or [f"the grader's calls reached {', '.join(ran)}"]


def deducted(verdicts):
    """Points the `deduct` rules take off the total."""
    return sum(v["points"] for v in verdicts if v["broken"] and v["cost"] == "deduct")
