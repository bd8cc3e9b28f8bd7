"""Checks for A2S1.py: queries and keys that make the handout's attention select and average its values.

Students answer in one of three shapes, all accepted: top-level values (`query121 = ...`, and `m_key` assigned
once for 1.4.1 and again for 1.4.2, read by graders/values.py); the 2025 notebook's functions (`get_query121()`
... `get_query132()`, and `get_key141()` / `get_key142()` returning the new k2); or the newer template's
`problem_1()`, `problem_2()`, `problem_3()` (1.2.1, 1.2.2 and 1.3.1; it has no 1.3.2 or 1.4, which are then
read from the other names). A list, a numpy array or a tensor of either dtype; a single query may be (3,) or
(1, 3). Each answer is scored as the handout's own checker does, with the handout's K and V (never the
student's copy): the max abs error of attention's output against the target must be at most 0.05.

They read only the handout (handout_a2s1.py: K, V, the targets, its attention), never the solution, so the student
kit runs them as they are.
"""
import torch

from graders.checks.feedback import fail
from graders.problems import InterfaceError, NotGradable
from graders.values import kept, returned
from graders_packs.uw_cse447_a2 import handout_a2s1 as handout

__all__ = ["test_query121", "test_query122", "test_query131", "test_query132", "test_m_key_141", "test_m_key_142"]
FILE = "A2S1.py"
TOL = 0.05        # the handout's checker: max abs difference at most 0.05
ROW_TOL = 1e-4    # a kept row of K: K is given to 2 decimals, so a float32 copy differs by ~1e-8
UNIT_TOL = 0.02   # | |k2| - 1 |: a unit vector rounded to 2 decimals, as the handout rounds K, is off by < 0.01
SOURCES = {  # answer -> (template functions that return it, the top-level value that holds it)
    "query121": (("problem_1", "get_query121"), "query121"),
    "query122": (("problem_2", "get_query122"), "query122"),
    "query131": (("problem_3", "get_query131"), "query131"),
    "query132": (("get_query132",), "query132"),
}
NEW_K2 = ("get_key141", "get_key142")  # the 2025 notebook's functions that return the new k2 of 1.4.1, 1.4.2
SCALED = ("the query gives the target only when scores are divided by sqrt(3), as in scaled dot-product "
          "attention; the handout's attention is unscaled (scale=1)")


def _function(submission, names):
    """The first of `names` the student's A2S1.py defines as a function, or None; one whose definition cannot
    be graded (a syntax error) says why."""
    source = submission.source(FILE)
    if source.problem:  # unreadable (an absent file's checks do not run: plugin.py)
        raise NotGradable(source.problem)
    defined = submission.defined(submission.spec.source(FILE).module)
    for name in names:
        if defined.get(name, {}).get("kind") == "function":
            return name
        if name in submission.extraction(FILE).broken:
            raise NotGradable(f"{name} could not be graded: {submission.extraction(FILE).broken[name]}")
    return None


def array(got, what, rows):
    """The student's answer as a float64 (rows, 3) tensor; a single query may come as (3,)."""
    if type(got) is not torch.Tensor:
        raise InterfaceError(f"{what} is {got if isinstance(got, str) else 'not an array'}; expected numbers "
                             "(a list, a numpy array or a tensor)")
    if rows == 1 and tuple(got.shape) == (3,):
        got = got[None]
    if tuple(got.shape) != (rows, 3):
        hint = " (it looks transposed)" if tuple(got.shape) == (3, rows) else ""
        raise InterfaceError(f"{what} has shape {tuple(got.shape)}, expected {(rows, 3) if rows > 1 else '(1, 3)'}"
                             f"{hint}")
    return got.double()


def assigned(submission, name):
    """The successive values of a top-level answer, without placeholders (`query131 = None  # TODO`)."""
    return [v for v in kept(submission, FILE, name) if not (type(v) is str and v == "None")]


def answer(submission, name):
    """(query, how the student gave it) for an answer of SOURCES: a template function, else the last value of
    the top-level name (a placeholder `= None` earlier does not count)."""
    functions, value = SOURCES[name]
    rows = len(handout.ROWS[name])
    fn = _function(submission, functions)
    if fn:
        return array(returned(submission, FILE, fn), f"{fn}()", rows), f"{fn}()"
    values = assigned(submission, value)
    if not values:
        raise NotGradable(f"{FILE} defines neither {value} nor {' nor '.join(f + '()' for f in functions)}")
    return array(values[-1], value, rows), value


def new_keys(submission, index):
    """(m_key, how the student gave it) for 1.4.1 (index 0) or 1.4.2 (index 1). From get_key141/142() (the new
    k2 in K), else the successive values of m_key, leaving out copies of K not yet changed."""
    fn = _function(submission, [NEW_K2[index]])
    if fn:
        keys = handout.K.clone()
        keys[2] = array(returned(submission, FILE, fn), f"{fn}()", 1)[0]
        return keys, f"K with k2 = {fn}()"
    values = [v for v in assigned(submission, "m_key") if not _is_k(v)]
    if len(values) <= index:
        raise NotGradable(f"{FILE} defines no {NEW_K2[index]}() and assigns m_key {len(values)} time(s) with a "
                          f"changed k2; 1.4.{index + 1} reads the {('first', 'second')[index]} m_key")
    return array(values[index if index == 0 else -1], "m_key", 4), "m_key"


def _is_k(value):
    """A copy of K not yet changed (`m_key = key.clone()` in a cell of its own): no answer."""
    return type(value) is torch.Tensor and value.shape == handout.K.shape and torch.allclose(value, handout.K, rtol=0,
                                                                                          atol=ROW_TOL)


def rows_text(rows):
    return " and ".join(f"v{i}" for i in rows)


def diagnose(q, keys, rows, weights):
    """The mistake a wrong query or key shows: scaled attention, the wrong value rows, or unequal weights."""
    if (handout.attention(q, keys, scale=3 ** -0.5) - handout.target(rows)).abs().max() <= TOL:
        return SCALED
    for i, want in enumerate(rows):
        where = f"row {i} of the query " if len(rows) > 1 else ""
        got = tuple(j for j in range(len(keys)) if weights[i, j] >= 0.1)
        w = weights[i, list(want)]
        if len(want) == 1 and weights[i].argmax().item() == want[0] and w.item() < 1 - TOL:
            return (f"{where}gives v{want[0]} only weight {w.item():.2f}: too short; the same direction, longer, "
                    "sharpens the softmax")
        if got != want:
            return f"{where}attends to {rows_text(got) or 'no value strongly'} instead of {rows_text(want)}"
        if w.max() - w.min() > 0.02:
            return (f"{where}weighs {rows_text(want)} unequally ({', '.join(f'{x:.2f}' for x in w.tolist())}): their "
                    "scores q·k must be equal for an average")
    return None


def expect(call, q, keys, rows):
    """Pass when attention(q, keys, V) is within TOL of the mean of the value rows `rows` names."""
    out, goal = handout.attention(q, keys), handout.target(rows)
    err = (out - goal).abs().max().item()
    if err <= TOL:
        return
    weights = handout.weights(q, keys)
    fail(f"{call} is off by {err:.3g} (max abs error; at most {TOL} earns credit)",
         details=[f"Attention weights over k0..k3: {_round(weights)}",
                  f"Expected output {_round(goal)}, got {_round(out)}"], bug=diagnose(q, keys, rows, weights))


def _round(t):
    return [[round(x, 3) for x in row] for row in t.tolist()]


def check_query(submission, name):
    q, what = answer(submission, name)
    expect(f"attention({what}, K, V)", q, handout.K, handout.ROWS[name])


def check_new_key(submission, index, unit):
    """1.4: m_key may differ from K only in k2 (and 1.4.2's k2 must be a unit vector); query132 attends with it."""
    keys, what = new_keys(submission, index)
    changed = [i for i in (0, 1, 3) if not torch.allclose(keys[i], handout.K[i], rtol=0, atol=ROW_TOL)]
    if changed:
        fail(f"{what} changes {' and '.join(f'k{i}' for i in changed)}: the handout lets you replace only k2",
             details=[f"K: {_round(handout.K)}", f"{what}: {_round(keys)}"], bug="m_key changes rows other than k2")
    if unit and abs(keys[2].norm().item() - 1) > UNIT_TOL:
        fail(f"the new k2 {_round(keys[2:3])[0]} has length {keys[2].norm().item():.3g}",
             bug="1.4.2's new k2 is not a unit vector (normalise it: k2 / k2.norm())")
    try:
        q, q_what = answer(submission, "query132")
    except (NotGradable, InterfaceError) as e:
        raise type(e)(f"1.4 attends with your query of 1.3.2, which could not be read: {e}") from None
    expect(f"attention({q_what}, {what}, V)", q, keys, handout.ROWS[f"m_key14{index + 1}"])


def test_query121(submission):
    """1.2.1: a query whose attention output is v0."""
    check_query(submission, "query121")


def test_query122(submission):
    """1.2.2: a 4x3 query matrix whose attention output is V (row i selects v_i)."""
    check_query(submission, "query122")


def test_query131(submission):
    """1.3.1: a query whose attention output is the mean of all values."""
    check_query(submission, "query131")


def test_query132(submission):
    """1.3.2: a query whose attention output is the mean of v0 and v1."""
    check_query(submission, "query132")


def test_m_key_141(submission):
    """1.4.1: K with only k2 replaced, so that query132 averages v0, v1 and v2."""
    check_new_key(submission, 0, unit=False)


def test_m_key_142(submission):
    """1.4.2: K with only k2 replaced by a unit vector, so that query132 returns v2."""
    check_new_key(submission, 1, unit=True)
