"""Written answers (a student's answers.yaml or answers.json) graded against a key kept grader-side.

Three kinds of item: numbers and vectors, within a tolerance (an argmax-attention answer [3, 2, -4]); formulas,
compared by value at fixed sample points (`2d+2` accepts `2*d + 2`, `2(d+1)`, `d*2+2`); and multiple choice,
as a set (order-free). Each item is one check, so credit is partial per item. The answers file is untrusted
data: it is read in the grader with a size cap, YAML without anchors or aliases, and formulas are parsed with
Python's ast and evaluated over a whitelist (numbers, the item's variables, + - * / ** and parentheses, bounded
exponents); nothing is ever eval'd. A file that cannot be read fails every written check with a message that
says why, and costs nothing else.

How a spec declares a written part:

1. The answers file among the spec's files, as data (found as .yaml, .yml or .json, never run):

       files:
         - {name: answers.yaml, data: true}

2. The key: a YAML file next to the checks, one item per check name. `question` is the student's key in
   answers.yaml; then exactly one of `number`, `vector` (each with an optional absolute `tol`, default 1e-6),
   `formula` (with its `variables`) or `choices`:

       test_written_params:  {question: params_layer, formula: "2d+2", variables: [d]}
       test_written_lora:    {question: params_lora, formula: "2dr", variables: [d, r]}
       test_written_argmax:  {question: argmax_query, vector: [3, 2, -4], tol: 0.01}
       test_written_rows:    {question: rows_averaged, choices: [v0, v1]}

3. A check module that the student kit withholds (`KIT = "withheld"`: the kit would otherwise ship the key),
   with one test per item, `def test_written_params(submission): grade(submission, KEY)` where
   `KEY = Key.load(Path(__file__).with_name("written_key.yaml"))`, star-imported by a test_*.py of the checks
   package; and a part with `file: answers.yaml` that lists those checks with their points.

The expected answer appears in the feedback only when the check's visibility is not `visible`: students see
that feedback after the deadline (after_due_date, after_published), or course staff alone (hidden).
"""
import ast
import json
import math
import operator
import random
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from graders.checks.feedback import fail
from graders.problems import InterfaceError, NotGradable

MAX_BYTES = 64 << 10     # an answers file is a few lines; anything larger is not one
MAX_FORMULA = 200        # characters of one formula
MAX_EXPONENT = 16        # |b| in a ** b: polynomials of a handout's size, never a number too large for a float
POINTS = 6               # sample points a formula is compared at
KINDS = ("number", "vector", "formula", "choices")
OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
       ast.Pow: operator.pow}
TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
                   r"|(?P<op>\*\*|[-+*/()^]))")
SYMBOLS = str.maketrans({"×": "*", "·": "*", "⋅": "*", "−": "-"})


class FormulaError(ValueError):
    """A formula outside the accepted grammar, or one that cannot be evaluated at a sample point."""


@dataclass(frozen=True)
class Formula:
    """A parsed formula over `variables`; `value(env)` evaluates it."""
    text: str
    tree: ast.Expression
    variables: tuple

    @classmethod
    def parse(cls, text, variables=()):
        text = str(text).translate(SYMBOLS).strip()
        if not text or len(text) > MAX_FORMULA:
            raise FormulaError(f"a formula must have 1 to {MAX_FORMULA} characters")
        tokens, pos = [], 0
        while pos < len(text) and text[pos:].strip():
            m = TOKEN.match(text, pos)
            if not m:
                raise FormulaError(f"unexpected {text[pos:].lstrip()[0]!r} at character {pos + 1}")
            pos = m.end()
            kind = m.lastgroup
            word = m.group(kind)
            if kind == "name" and word not in variables:
                if not all(ch in variables for ch in word):  # `ld` is l·d when l and d are variables
                    allowed = ", ".join(variables) or "none"
                    raise FormulaError(f"unknown name {word!r} (variables: {allowed})")
                tokens += [("name", ch) for ch in word]
                continue
            tokens.append((kind, "**" if word == "^" else word))
        source = []
        for i, (kind, word) in enumerate(tokens):
            if i and (tokens[i - 1][0] in ("num", "name") or tokens[i - 1][1] == ")") and (
                    kind in ("num", "name") or word == "("):
                source.append("*")  # an implicit product: 2d, 2(d+1), (d+1)(d-1)
            source.append(word)
        try:
            tree = ast.parse(" ".join(source), mode="eval")
        except (SyntaxError, RecursionError, MemoryError):
            raise FormulaError(f"{text!r} is not a formula") from None
        formula = cls(text, tree, tuple(variables))
        for node in ast.walk(tree):  # the grammar, checked once: the evaluator can then trust the tree
            if not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.operator,
                                     ast.UAdd, ast.USub, ast.Load)) or (
                    isinstance(node, ast.BinOp) and type(node.op) not in OPS):
                raise FormulaError(f"{text!r} uses something other than numbers, variables, + - * / ^ and "
                                   "parentheses")
        return formula

    def value(self, env):
        try:
            result = _evaluate(self.tree.body, env)
        except (ZeroDivisionError, OverflowError, RecursionError) as e:
            raise FormulaError(f"{self.text!r} cannot be evaluated at {_point(env)} ({type(e).__name__})") from None
        if not isinstance(result, float) or not math.isfinite(result):
            raise FormulaError(f"{self.text!r} has no finite real value at {_point(env)}")
        return result


def _evaluate(node, env):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    left, right = _evaluate(node.left, env), _evaluate(node.right, env)
    if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
        raise OverflowError(f"an exponent above {MAX_EXPONENT}")
    return OPS[type(node.op)](left, right)


def _point(env):
    return ", ".join(f"{k}={v:g}" for k, v in env.items()) or "no variables"


def sample_points(variables):
    """Fixed points (whole numbers 2-40, seeded by the variables' names) at which formulas are compared."""
    rng = random.Random(",".join(variables))
    return [{v: float(rng.randint(2, 40)) for v in variables} for _ in range(POINTS if variables else 1)]


def same_formula(got, want):
    """(True, None) when the formulas agree at every sample point, else (False, the first point they differ at)."""
    for env in sample_points(want.variables):
        a, b = got.value(env), want.value(env)
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
            return False, (env, a, b)
    return True, None


class _NoAliases(yaml.SafeLoader):
    """YAML without anchors and aliases: `*a` repeated can expand a short file into a huge object."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("anchors and aliases (&name, *name) are not accepted")
        return super().compose_node(parent, index)


class KeyItem(BaseModel):
    """One written check's answer: the question's name in answers.yaml and exactly one of KINDS."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str
    number: float | None = None
    vector: list[float] | None = None
    tol: float = 1e-6                    # for number and vector
    formula: str | None = None
    variables: list[str] = []            # a formula's variables
    choices: list[str] | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"needs exactly one of {', '.join(KINDS)}, has {', '.join(kinds) or 'none'}")
        if self.formula is not None:
            Formula.parse(self.formula, tuple(self.variables))
        return self


class Key:
    """Items by check name; loaded once from a grader-side YAML file, every item checked as it loads."""

    def __init__(self, items):
        self.items = {}
        for name, item in items.items():
            try:
                self.items[name] = KeyItem.model_validate(item)
            except ValidationError as e:
                raise ValueError(f"key item {name}: {e.errors()[0]['msg']}") from None

    @classmethod
    def load(cls, path):
        return cls(yaml.safe_load(Path(path).read_text()))


def read_answers(submission, name):
    """The student's answers as {question: answer}; a file that cannot be read raises with the reason. Read once
    per submission: every written check asks, and a file made to be slow to parse would cost each of them."""
    def read():
        try:
            return _read_answers(submission, name), None
        except NotGradable as e:
            return None, str(e)
    answers, problem = submission.memo(("written answers", name), read, per_child=False)
    if problem:
        raise NotGradable(problem)
    return answers


def _read_answers(submission, name):
    source = submission.source(name)
    if source.problem:
        raise NotGradable(source.problem)
    path = source.path
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise NotGradable(f"{path.name} has more than the {MAX_BYTES} bytes an answers file may have")
    try:
        text = data.decode("utf-8-sig")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_NoAliases)  # noqa: S506
    except UnicodeDecodeError:
        raise NotGradable(f"{path.name} is not UTF-8 text") from None
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        raise NotGradable(f"{path.name} could not be read: {str(e)[:300]}") from None
    if not isinstance(data, dict):
        raise NotGradable(f"{path.name} must map each question to its answer (`question: answer` lines); it holds "
                          f"a {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def grade(submission, key, file="answers.yaml"):
    """Check the running check's item of `key` against the student's answer to it."""
    item = key.items[submission.check]
    question = item.question
    answers = read_answers(submission, file)
    if question not in answers:
        listed = ", ".join(sorted(answers)[:10]) or "none"
        raise InterfaceError(f"{file} has no answer to {question!r} (it answers: {listed})")
    check = next(c for p in submission.spec.parts for c in p.checks if c.name == submission.check)
    judge(item, answers[question], show=check.visibility.value != "visible")


def judge(item, got, show):
    """Raise CheckFailed for a wrong answer, InterfaceError for one of the wrong type; `show` reveals the key."""
    question, vector = item.question, item.vector is not None
    if item.choices is not None:
        return _choices(question, got, item.choices, show)
    if item.formula is not None:
        variables = tuple(item.variables)
        want = Formula.parse(item.formula, variables)
        try:
            answer = Formula.parse(got, variables) if isinstance(got, (str, int, float)) and type(got) is not bool \
                else None
        except FormulaError as e:
            raise InterfaceError(f"{question}: {e}") from None
        if answer is None:
            raise InterfaceError(f"{question}: a formula is text such as \"2*d + 2\", not a {type(got).__name__}")
        try:
            same, where = same_formula(answer, want)
        except FormulaError as e:
            raise InterfaceError(f"{question}: {e}") from None
        if not same:
            env, a, b = where
            fail(f"{question}: {answer.text} is not the expected formula: at {_point(env)} it gives {a:g}",
                 details=[f"expected {want.text}, which gives {b:g} there"] if show else [])
        return None
    want, tol = item.vector if vector else [item.number], item.tol
    numbers = _numbers(question, got if vector else [got], vector)
    if len(numbers) != len(want):
        fail(f"{question}: {len(numbers)} numbers, expected {len(want)}")
    bad = [i for i, (a, b) in enumerate(zip(numbers, want, strict=True)) if not abs(a - b) <= tol]
    if bad:
        where = f"entry {bad[0]} ({numbers[bad[0]]:g})" if vector else f"{numbers[0]:g}"
        fail(f"{question}: {where} is off by more than {tol:g}",
             details=[f"expected {'[' + ', '.join(f'{w:g}' for w in want) + ']' if vector else f'{want[0]:g}'}"]
             if show else [])
    return None


def _numbers(question, values, vector):
    """Numbers from a YAML/JSON list (or one number); an entry may be text such as "1/4" or "-3"."""
    if not isinstance(values, list):
        raise InterfaceError(f"{question}: expected a list of numbers such as [3, 2, -4], got a "
                             f"{type(values).__name__}")
    out = []
    for v in values:
        try:
            if type(v) in (int, float):
                out.append(float(v))
            elif isinstance(v, str):
                out.append(Formula.parse(v).value({}))
            else:
                raise FormulaError(f"a {type(v).__name__}")
        except FormulaError as e:
            what = "a list of numbers" if vector else "a number"
            raise InterfaceError(f"{question}: expected {what}; {e}") from None
    return out


def _choices(question, got, want, show):
    if isinstance(got, str):
        got = [x for x in re.split(r"[,;\s]+", got) if x]
    if not isinstance(got, list) or not all(type(x) in (str, int, float) for x in got):
        raise InterfaceError(f"{question}: expected a list of choices such as [v0, v1], got a {type(got).__name__}")
    mine, right = {str(x).strip().lower() for x in got}, {str(x).strip().lower() for x in want}
    if mine != right:
        fail(f"{question}: {len(mine & right)} of your {len(mine)} choices are right and {len(right - mine)} "
             f"{'is' if len(right - mine) == 1 else 'are'} missing",
             details=[f"expected {sorted(right)}"] if show else [])
