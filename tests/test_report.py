"""The HTML reports and grades.csv, from results of really graded samples and from hand-made edge cases."""
import base64
import copy
import csv
import html
import io
import math
import re
import struct
import zlib
from html.parser import HTMLParser

import pytest
import torch

from graders import packs
from graders import spec as specs
from graders.check_kinds import CheckKind
from graders.report import checks_csv, class_report, grades_csv, pages, png, stats, student_report
from graders.report import figures as figs

A2 = "uw-cse447-a2"
SQRT = "scaled by sqrt(n_embd) instead of sqrt(n_embd / n_heads)"
AFTER = "mask applied after the softmax: rows no longer sum to 1"


@pytest.fixture(scope="module")
def graded():
    """results.json dicts of two bug samples, graded once for the module (~3 s each), and one with full marks."""
    from graders.grade import grade
    from graders.results import HIDDEN_MESSAGE, gradescope

    results = {name: gradescope(grade(packs.samples(A2) / name, A2))
               for name in ("bug-scale-sqrt-embd", "bug-mask-after-softmax")}
    clean = results["reference"] = copy.deepcopy(results["bug-scale-sqrt-embd"])
    for test in clean["tests"]:
        test.update(score=test["max_score"], status="passed", tags=test["tags"][:2],
                    output="" if test["visibility"] == "visible" else HIDDEN_MESSAGE[True])
    clean["score"], clean["extra_data"]["diagnoses"] = specs.get(A2).max_score, {}
    return results


@pytest.fixture(scope="module")
def a2():
    return specs.get(A2)


def grader_failed(results):
    """A copy of `results` as the grader writes it when it fails part way: a "Grader" test, number 0."""
    broken = copy.deepcopy(results)
    broken["tests"] = broken["tests"][:2] + [{
        "name": "Grader", "number": "0", "score": 0.0, "max_score": 0.0, "status": "failed",
        "output": "The grader failed before finishing (OSError: disk full)", "output_format": "text",
        "visibility": "visible", "tags": ["grader"]}]
    broken["score"] = sum(t["score"] for t in broken["tests"])
    return broken


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def decode_png(uri):
    """(width, height, pixel(x, y) -> (r, g, b)) of an 8-bit RGB PNG data URI, checking every chunk's CRC."""
    data = base64.b64decode(uri.removeprefix("data:image/png;base64,"))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(data):
        length, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(tag + body)
        chunks[tag] = chunks.get(tag, b"") + body
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour_type, interlace) == (8, 2, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * width
    assert len(raw) == height * stride and all(raw[y * stride] == 0 for y in range(height))
    return width, height, lambda x, y: tuple(raw[y * stride + 1 + 3 * x:y * stride + 4 + 3 * x])


# The student's page

def test_failing_check_shows_feedback_diagnosis_and_reproduction(graded):
    page = student_report(graded["bug-scale-sqrt-embd"], "ada")
    assert "attn_scaled(A, 10, 2) is wrong at 294 of 294 positions" in page
    assert html.escape("Input: attn_scaled(A, 10, 2) with A of shape (3, 2, 7, 7)") in page
    assert f"<strong>Likely bug:</strong> {html.escape(SQRT)}" in page
    assert html.escape("A = torch.randn(3, 2, 7, 7, generator=g); attn_scaled(A, 10, 2)") in page
    assert 'id="check-2.1"' in page and 'class="check failed" id="check-2.1"' in page
    assert 'class="check passed" id="check-1.1"' in page


def test_feedback_travels_as_fields(graded):
    """The boxes come from the fields in extra_data, which the grader wrote, not from the text's lines."""
    results = graded["bug-scale-sqrt-embd"]
    fields = results["extra_data"]["feedback"]["2.1"]
    assert fields["bug"] == SQRT and fields["case"].startswith("attn_scaled(A, 10, 2) with A of shape (3, 2, 7, 7)")
    assert fields["repro"].endswith("A = torch.randn(3, 2, 7, 7, generator=g); attn_scaled(A, 10, 2)")
    assert "student_output" not in fields and set(results["extra_data"]["hidden_fields"]) <= {
        c.name for p in specs.get(A2).parts for c in p.checks if c.visibility != "visible"}
    page = student_report(results, "ada")
    box = re.search(r'id="check-2.1".*?<div class="diagnosis"><strong>Likely bug:</strong> (.*?)</div>\s*'
                    r'<div class="label">Reproduce</div><pre class="reproduce">(.*?)</pre>', page, re.S)
    assert box and box.groups() == (html.escape(SQRT), html.escape(fields["repro"]))


def test_results_without_fields_still_render(graded):
    """results.json written before the fields: the text as it is, the diagnosis box from the bug tag."""
    old = copy.deepcopy(graded["bug-scale-sqrt-embd"])
    del old["extra_data"]["feedback"], old["extra_data"]["hidden_fields"]
    page = student_report(old, "ada")
    assert "attn_scaled(A, 10, 2) is wrong at 294 of 294 positions" in page
    assert f"<strong>Likely bug:</strong> {html.escape(SQRT)}" in page
    assert html.escape("Reproduce: g = torch.Generator()") in page and 'class="reproduce"' not in page  # as text


def test_a_merge_replaces_the_fields_of_the_checks_it_merges(graded, a2):
    from graders.plugin import Outcome
    from graders.results import merge

    old = copy.deepcopy(graded["bug-scale-sqrt-embd"])
    del old["extra_data"]["feedback"]
    merged = merge(old, a2, {"test_attn_scaled": Outcome(True, "passed on a rerun")})
    extra = merged["extra_data"]
    assert extra["feedback"] == {"2.1": {"summary": "passed on a rerun"}} and "2.1" not in extra["diagnoses"]
    page = student_report(merged, "ada")
    assert 'class="check passed" id="check-2.1"' in page and "passed on a rerun" in page
    assert html.escape(SQRT) in page  # the other checks keep their text (9.2 names the same bug)


FORGED = ("Diagnosis: forged <b>bug</b>", "Reproduce: forged", "Input: forged")


@pytest.fixture(scope="module", params=["os._exit(3)", "sys.exit(3)", "raise RuntimeError(7)"])
def forged(request, tmp_path_factory):
    """results.json of a submission whose attn_scaled prints lines shaped like the grader's, then ends as
    `params` says: the process dies, or the call raises."""
    from graders.grade import grade
    from graders.results import gradescope

    folder = tmp_path_factory.mktemp("forged")
    text = (packs.samples(A2) / "bug-scale-sqrt-embd" / "A2S2.py").read_text()
    prints = "".join(f"    print({line!r})\n" for line in FORGED)
    text = text.replace("    return A / math.sqrt(n_embd)\n",
                        f"    import os, sys\n{prints}    {request.param}\n", 1)
    (folder / "A2S2.py").write_text(text)
    return request.param, gradescope(grade(folder, A2))


def test_printed_lines_never_reach_the_graders_boxes(forged):
    ending, results = forged
    extra = results["extra_data"]
    grader_fields = [v for fields in [*extra["feedback"].values(), *extra["hidden_fields"].values()]
                     for k, v in fields.items() if k != "student_output"]
    assert not [v for v in grader_fields + list(extra["diagnoses"].values()) if "forged" in str(v)]
    assert not [tag for t in results["tests"] for tag in t["tags"] if "forged" in tag]
    for test in results["tests"]:  # the text quotes them only indented, under the label
        assert not [line for line in test["output"].splitlines() if line.startswith(FORGED)], test["output"]
    page = student_report(results, "ada")
    quoted = re.findall(r'<pre class="student-output">(.*?)</pre>', page, re.S)
    assert "forged" not in re.sub(r'<pre class="student-output">.*?</pre>', "", page, flags=re.S)
    assert not [t for t, _ in Tags(page).tags if t == "b"]
    fields = extra["feedback"]["2.1"]
    if ending == "os._exit(3)":  # a death quotes the end of what the process printed
        assert "exited with status 3" in fields["summary"] and fields["student_output"].split("\n") == list(FORGED)
        assert quoted and all(html.escape(line, quote=False) in quoted[0] for line in FORGED)
        assert "Your code printed" in page
    else:
        assert "raised" in fields["summary"] and not quoted


def test_hidden_feedback_and_diagnoses_never_reach_the_student(graded):
    results = copy.deepcopy(graded["bug-mask-after-softmax"])
    real = results["extra_data"]["hidden_feedback"]["test_self_attention_causality"]
    assert "sees the future" in real  # the sample does fail the hidden causality check
    results["extra_data"]["diagnoses"]["9.3"] = "SECRET-DIAGNOSIS"
    page = student_report(results, "ada")
    assert "sees the future" not in page and "became" not in page and "SECRET-DIAGNOSIS" not in page
    assert "Hidden check: failed. Details appear after grades are published." in page
    assert page.count("hidden check</span>") == sum(c.visibility != "visible" for p in specs.get(A2).parts for c in p.checks)


def test_student_controlled_text_is_escaped(graded):
    results = copy.deepcopy(graded["bug-scale-sqrt-embd"])
    results["output"] = "graded <iframe src=x>.py as A2S2.py"
    results["extra_data"]["feedback"]["2.1"] = {
        "summary": "attn_scaled printed <script>alert(1)</script>", "case": "<img src=x onerror=alert(2)>",
        "bug": "</div><b>bold</b>", "repro": "f('</pre><script>alert(3)</script>')",
        "student_output": "</pre><iframe src=x></iframe><script>alert(5)</script>"}
    page = student_report(results, "<b>eve</b>", class_link='"><script>alert(4)</script>')
    tags = Tags(page).tags
    assert not [t for t, _ in tags if t in ("script", "iframe", "b")]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    assert all(attrs["src"].startswith("data:image/png;base64,") for t, attrs in tags if t == "img")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;eve&lt;/b&gt;" in page
    assert "default-src 'none'" in page  # and the page forbids scripts anyway


def test_parts_group_checks_with_their_totals(graded, a2):
    results = graded["bug-scale-sqrt-embd"]
    parts = {p["id"]: p for p in pages.parts(results["tests"])}
    assert [p.id for p in a2.parts] == list(parts)
    assert {p.id: p.title for p in a2.parts} == {i: p["title"] for i, p in parts.items()}
    assert (parts["attn_scaled"]["score"], parts["attn_scaled"]["max_score"]) == (0, 2)
    assert (parts["self_attention"]["score"], parts["self_attention"]["max_score"], parts["self_attention"]["passed"]) \
        == (3, 5, 3)
    assert sum(p["score"] for p in parts.values()) == results["score"] == 16
    page = student_report(results, "ada")
    row = re.search(r'<a href="#part-9">self_attention against torch</a></td>\s*<td class="num">3 / 4</td>\s*'
                    r'<td class="num">3 / 5</td>', page)
    assert row, "the self_attention row of the part table"
    assert re.search(rf'id="total">16 <small>/ {a2.max_score:g} points', page)


@pytest.mark.parametrize("spec", specs.available().values(), ids=lambda s: s.id)
def test_part_titles_recovered_from_test_names(spec):
    """Part and check titles may both hold ": " (the Perceiver checks do); every real spec's come back."""
    tests = [{"name": f"{part.title}: {check.title}", "number": f"{p}.{c}", "score": 0, "max_score": check.points,
              "status": "failed", "output": "", "visibility": "visible", "tags": [part.file, part.id]}
             for p, part in enumerate(spec.parts, 1) for c, check in enumerate(part.checks, 1)]
    views = pages.parts(tests)
    assert [v["title"] for v in views] == [p.title for p in spec.parts]
    assert [[c["title"] for c in v["checks"]] for v in views] == [[c.title for c in p.checks] for p in spec.parts]


def test_grader_failure_and_standalone_page(graded):
    page = student_report(grader_failed(graded["reference"]), "ada")
    assert 'id="grader-error"' in page and "disk full" in page
    assert 'id="class-link"' not in page
    linked = student_report(graded["reference"], "ada", class_link="../../index.html")
    assert '<a id="class-link" href="../../index.html">' in linked and 'id="grader-error"' not in linked


# Pending threshold checks: a state of their own

A4 = "cs224n-a4-2024"  # an assignment with a threshold check


@pytest.fixture(scope="module")
def waiting():
    """results.json of an A4 class graded without a GPU under the full profile: every check but the threshold one
    passed for "pat", nothing but the pending check for "quinn" (as the engine writes them, no grading needed)."""
    from graders import thresholds
    from graders.plugin import Outcome
    from graders.results import Result, gradescope

    spec = specs.get(A4)
    passed = {c.name: Outcome(True) for p in spec.parts for c in p.checks if not c.job}
    return spec, {"pat": gradescope(Result(spec, passed | thresholds.pending(spec, "full"))),
                  "quinn": gradescope(Result(spec, thresholds.pending(spec, "full")))}


def test_students_see_pending_as_waiting_not_failing(waiting):
    from graders.thresholds import PENDING_NOTE

    _, students = waiting
    (test,) = [t for t in students["pat"]["tests"] if CheckKind.of(t) == CheckKind.PENDING]
    assert test["output"].startswith(PENDING_NOTE) and "graders batch" not in test["output"]
    page = student_report(students["pat"], "pat")
    check = page[page.index(f'id="check-{test["number"]}"'):]
    check = check[:check.index("</li>")]
    assert 'class="check pending"' in page and "✗" not in check and "badge bad" not in check
    assert '<span class="mark">…</span>' in check and "– / 2" in check and "pending" in check
    assert "graders batch" not in page and "--runner" not in page
    assert 'id="pending-total"' in page and "1 check pending" in page
    assert "✗" not in page  # pat's only check short of its points waits


def test_the_terminal_summary_says_pending_not_fail():
    from graders import thresholds
    from graders.results import Result, summary

    spec = specs.get(A4)
    text = summary(Result(spec, thresholds.pending(spec, "full")))
    assert "PENDING -/2  birthplace:" in text and "FAIL" not in text and "(2 points pending)" in text


def test_staff_see_how_to_complete_pending_checks_apart_from_failures(waiting):
    spec, students = waiting
    page = class_report(spec, students, {})
    section = page[page.index('id="pending"'):page.index("</section>", page.index('id="pending"'))]
    assert "graders batch DIR --assignment cs224n-a4-2024 --out OUT --resume --profile full --runner slurm" in section
    assert "pat" in section and "quinn" in section
    assert CheckKind.PENDING not in {k["kind"] for k in stats.kinds(students)}
    assert stats.kinds(students) == [] and "No check failed." in page
    summary = stats.summarize(spec, students)
    assert summary["full_marks"] == 1  # pat: every point but the pending ones
    assert [r["failed"] for r in summary["rows"]] == [0, 0] and [r["pending"] for r in summary["rows"]] == [1, 1]
    (rate,) = [c for c in summary["checks"] if c["pending"]]
    assert (rate["graded"], rate["percent"], rate["pending"]) == (0, None, 2)
    rows = {r[0]: r for r in csv.reader(io.StringIO(checks_csv(spec, students)))}
    assert rows["quinn"][5] == "pending"


# Kinds: one list, every stage

def test_every_kind_has_words_and_an_owner():
    from graders.check_kinds import Whose

    assert len({k.label for k in CheckKind}) == len(CheckKind)
    assert [k for k in CheckKind if not k.failed] == [CheckKind.PASSED, CheckKind.PENDING]
    assert CheckKind.REGRADE.whose == Whose.MACHINE and CheckKind.MISSING.whose == Whose.STUDENT
    of = [CheckKind.of({"number": "1.1", "status": "failed", "tags": tags}) for tags in
          (["f", "p"], ["f", "p", "from a newer grader"], ["f", "p", "limit"], ["f", "p", "bug: x"])]
    assert of == [CheckKind.WRONG, CheckKind.WRONG, CheckKind.LIMIT, CheckKind.WRONG]
    assert CheckKind.of({"number": "0", "status": "failed", "tags": ["grader"]}) == CheckKind.GRADER


def test_missing_files_are_apart_from_interface_errors(graded, a2):
    from graders.expected import NOT_HANDED_IN

    missing = [t for t in graded["bug-scale-sqrt-embd"]["tests"] if CheckKind.of(t) == CheckKind.MISSING]
    assert missing and all(t["tags"][2] == "missing" for t in missing)
    assert all(NOT_HANDED_IN in t["output"] for t in missing if t["visibility"] == "visible")
    handed_in = {t["tags"][0] for t in graded["bug-scale-sqrt-embd"]["tests"] if t["status"] == "passed"}
    assert not handed_in & {t["tags"][0] for t in missing}
    page = class_report(a2, {"a": graded["bug-scale-sqrt-embd"]}, {})
    kinds = page[page.index('id="kinds"'):page.index("</table>", page.index('id="kinds"'))]
    assert "file not handed in" in kinds and "interface error" not in kinds
    (row,) = stats.rows(a2, {"a": graded["bug-scale-sqrt-embd"]})
    failed = [t for t in graded["bug-scale-sqrt-embd"]["tests"] if t["status"] != "passed"]
    assert row["missing"] == sorted({t["tags"][0] for t in missing}) and "A2S2.py" not in row["missing"]
    assert row["failed"] == len(failed) - len(missing) > 0
    rates = [c for c in stats.check_rates(a2, {"a": graded["bug-scale-sqrt-embd"]}) if c["missing"]]
    assert len(rates) == len(missing) and all((c["graded"], c["percent"]) == (0, None) for c in rates)


def limited(results, numbers, kind="limit"):
    """A copy of `results` whose checks `numbers` failed with `kind` (as a busy machine or slow code leaves them)."""
    out = copy.deepcopy(results)
    for test in out["tests"]:
        if test["number"] in numbers:
            test.update(status="failed", score=0.0, tags=test["tags"][:2] + [kind])
    out["score"] = sum(t["score"] for t in out["tests"])
    return out


def test_machine_problems_are_apart_from_the_students_faults(graded, a2):
    clean = graded["reference"]
    first, second = (t["number"] for t in clean["tests"][:2])
    students = {"reference": limited(clean, {first}), "slow-too": limited(clean, {first, second}),
                "slow-own": limited(clean, {second}), "busy": limited(clean, {second}, "regrade")}
    found = stats.machine_problems(students)
    assert found["reference_graded"]
    assert {r["id"]: (len(r["regrade"]), len(r["limits"])) for r in found["students"]} == {
        "busy": (1, 0), "reference": (0, 1), "slow-too": (0, 1)}  # slow-own's limit is its own code's
    page = class_report(a2, students, {})
    line = page[page.index('id="machine-line"'):page.index("</p>", page.index('id="machine-line"'))]
    assert "1 student to regrade" in line and "2 with limits hit on checks where the" in line
    assert 'id="machine-problems"' in page
    without = class_report(a2, {k: v for k, v in students.items() if k != "reference"}, {})
    assert "no <code>reference</code> entry" in without
    order = [r["id"] for r in stats.summarize(a2, students)["rows"]]
    assert set(order[:3]) == {"busy", "reference", "slow-too"} and order[3] == "slow-own"


def test_class_report_heads_columns_with_part_ids_and_puts_attention_first(klass, a2):
    page = class_report(a2, klass, {})
    table = page[page.index('id="students"'):page.index("</table>", page.index('id="students"'))]
    heads = re.findall(r'<th class="num part" title="([^"]*)">([^<]*)<', table)
    assert heads == [(html.escape(p.title, quote=True), p.id) for p in a2.parts]
    order = [r["id"] for r in stats.rows(a2, klass)]
    scores = [klass[sid]["score"] for sid in order[1:]]
    assert order[0] == "e-broken" and scores == sorted(scores) and scores[0] < scores[-1]  # then the lowest score
    where = [table.index(f'<td class="who">{sid}') for sid in order]
    assert where == sorted(where)
    rates = [c["percent"] for c in stats.check_rates(a2, klass)]
    assert rates == sorted(rates)
    counts = [len(k["students"]) for k in stats.kinds(klass)]
    assert counts == sorted(counts, reverse=True) and all(counts)


# Figures

def heatmap_figure(matrix, other):
    return {"kind": "heatmaps", "title": "Attention <probabilities>", "caption": "rows are queries",
            "panels": [{"label": "your code", "matrix": matrix}, {"label": "reference", "matrix": other}]}


def test_heatmap_pngs_share_one_scale_and_mark_missing_cells():
    matrix = [[(i * 8 + j) / 63 for j in range(8)] for i in range(8)]
    matrix[0][7] = None
    matrix[1][7] = float("nan")
    other = [[0.25 + 0.25 * ((i + j) % 2) for j in range(8)] for i in range(8)]  # within 0.25..0.5
    figure = figs.heatmaps(heatmap_figure(matrix, other))
    w, h, pixel = decode_png(figure["panels"][0]["uri"])
    assert (w, h) == (288, 288)  # 8 cells of 36 px
    assert pixel(0, 0) == png.RAMP[0] and pixel(287, 287) == png.RAMP[-1]
    assert pixel(7 * 36 + 5, 0 * 36 + 5) == png.MISSING and pixel(7 * 36 + 5, 1 * 36 + 5) == png.MISSING
    assert pixel(6 * 36 + 35, 0) == png.colour(6 / 63) != pixel(6 * 36 + 36, 0) == png.MISSING
    _, _, other_pixel = decode_png(figure["panels"][1]["uri"])
    assert other_pixel(36, 0) == png.colour(0.5) != png.RAMP[-1]  # 0.5 on the shared 0..1 scale, not the top
    assert (figure["lo"], figure["hi"], figure["missing"]) == (0.0, 1.0, True)


def test_heatmap_block_size_follows_the_matrix():
    figure = figs.heatmaps(heatmap_figure([[1.0] * 3] * 2, [[0.0] * 40] * 40))
    assert [(p["width"], p["height"]) for p in figure["panels"]] == [(288, 192), (280, 280)]  # 7 px cells at 40
    assert decode_png(figure["panels"][0]["uri"])[:2] == (288, 192)
    assert figure["missing"] is False


def with_difference(matrix):
    values = [[1.0, 0.0], [0.5, 0.5]]
    figure = heatmap_figure(values, values)
    figure["panels"].append({"label": "your code − reference", "matrix": matrix, "scale": "difference"})
    return figure


def test_a_difference_panel_has_a_diverging_scale_of_its_own(graded):
    """A difference of 0.01 in one cell, beside values up to 1: on the shared scale it would be all but invisible."""
    figure = figs.heatmaps(with_difference([[0.0, 0.01], [-0.005, None]]))
    assert (figure["lo"], figure["hi"]) == (0.0, 1.0)  # the value panels' scale, without the difference
    difference = figure["panels"][2]
    assert difference["scale"]["lo"] == -0.01 and difference["scale"]["hi"] == 0.01
    _, _, pixel = decode_png(difference["uri"])
    cell = figs.HEATMAP_PX // 2
    assert pixel(0, 0) == png.colour(0.5, png.DIVERGING)  # zero: the middle, near-white
    assert pixel(cell, 0) == png.DIVERGING[-1] and pixel(0, cell) == png.colour(0.25, png.DIVERGING)
    assert pixel(cell, cell) == png.MISSING and figure["missing"]
    results = copy.deepcopy(graded["bug-scale-sqrt-embd"])
    results["extra_data"]["figures"] = [with_difference([[0.0, 0.0], [0.0, 0.0]])]
    page = student_report(results, "ada")
    assert "0 everywhere: no difference" in page and "a difference has its own" in page


def test_attention_maps_draw_the_difference_that_compares():
    from graders.checks.figures import attention_maps

    expected = torch.tensor([[1.0, 0.0, 0.0], [0.4, 0.6, 0.0], [0.2, 0.3, 0.5]])
    leaking = torch.tensor([[0.9, 0.1, 0.0], [0.4, 0.5, 0.1], [0.2, 0.3, 0.5]])  # one position ahead seen
    same = attention_maps("t", "c", leaking, expected, same_weights=True)["panels"]
    assert [p["label"] for p in same] == ["your code", "reference", "your code − reference"]
    assert same[2]["scale"] == "difference" and same[2]["matrix"][0][:2] == [-0.1, 0.1]
    own = attention_maps("t", "c", leaking * 0.5 + 0.1 * (leaking > 0), expected, same_weights=False)["panels"]
    assert own[2]["matrix"] == [[0.0, 0.15, 0.0], [0.0, 0.0, 0.15], [0.0, 0.0, 0.0]]  # only where the reference masks
    assert [p["label"] for p in attention_maps("t", "why", None, expected, same_weights=True)["panels"]] == ["reference"]


def test_student_page_draws_figures(graded):
    results = copy.deepcopy(graded["bug-scale-sqrt-embd"])
    results["extra_data"]["figures"] = [
        heatmap_figure([[0.1, None], [0.2, 0.3]], [[0.1, 0.0], [0.5, 0.5]]),
        {"kind": "curves", "title": "Loss", "x_label": "step", "y_label": "loss <nats>",
         "series": [{"label": "train", "x": [0, 1, 2, 3, 4], "y": [3, 2, float("nan"), 1.5, 1.2]},
                    {"label": "dev", "x": [0, 4], "y": [3.1, 1.4]}]},
        {"kind": "table", "title": "from a newer grader"}]
    page = student_report(results, "ada")
    images = [a["src"] for t, a in Tags(page).tags if t == "img"]
    assert len(images) == 3  # two panels and the colour bar
    assert all(decode_png(src)[0] > 0 for src in images)
    assert "no value (missing, NaN or infinite)" in page
    assert "Attention &lt;probabilities&gt;" in page and "loss &lt;nats&gt;" in page
    assert page.count("<polyline") == 3  # train broken at its NaN into two lines, and dev
    assert "figure of unknown kind &#39;table&#39;" in page


def test_curve_geometry():
    figure = figs.curves({"kind": "curves", "title": "t", "x_label": "x", "y_label": "y",
                          "series": [{"label": "a", "x": [0, 10], "y": [0, 1]}, {"label": "b", "x": [5], "y": [2]}]})
    g = figure["plot"]
    line, = figure["series"][0]["lines"]
    (x0, y0), (x1, y1) = [tuple(map(float, p.split(","))) for p in line.split()]
    assert (x0, x1) == (g["left"], g["width"] - g["right"])
    assert y0 > y1  # y grows upwards
    assert figure["series"][1]["dots"] and not figure["series"][1]["lines"]
    assert [label for _, label in figure["x_ticks"]] == ["0", "2", "4", "6", "8", "10"]


# The class page and grades.csv

@pytest.fixture(scope="module")
def klass(graded):
    """Five students: two with the sqrt(n_embd) bug, one masking after the softmax, one clean, one whose grading
    failed, and one whose only diagnosis is on a hidden check."""
    hidden_only = copy.deepcopy(graded["reference"])
    hidden_only["extra_data"]["diagnoses"] = {"9.3": "future tokens leak"}
    return {"a-sqrt": graded["bug-scale-sqrt-embd"], "b-sqrt": graded["bug-scale-sqrt-embd"],
            "c-after": graded["bug-mask-after-softmax"], "d-clean": graded["reference"],
            "e-broken": grader_failed(graded["reference"]), "f-hidden": hidden_only}


def test_class_report_counts_bugs_by_share_of_students(klass, a2):
    bugs = {b["bug"]: b for b in stats.bugs(klass)}
    assert (bugs[SQRT]["percent"], bugs[SQRT]["students"], bugs[SQRT]["checks"]) == (33, ["a-sqrt", "b-sqrt"],
                                                                                       ["2.1", "9.2"])
    assert (bugs[AFTER]["percent"], bugs[AFTER]["checks"]) == (17, ["9.1", "9.2"])
    assert bugs["future tokens leak"]["students"] == ["f-hidden"]  # hidden diagnoses count for staff
    page = class_report(a2, klass, {sid: f"students/{sid}/report.html" for sid in klass})
    assert re.search(r'<td class="num"><b>33%</b> \(2\)</td><td>' + re.escape(html.escape(SQRT)) + "</td>", page)
    assert re.search(r'<td class="num"><b>17%</b> \(1\)</td><td>' + re.escape(html.escape(AFTER)) + "</td>", page)


def test_class_report_lists_grader_failures_kinds_and_students(klass, a2):
    links = {sid: f"students/{sid}/report.html" for sid in klass}
    page = class_report(a2, klass, links)
    failures = page[page.index('id="grader-failures"'):page.index("<h2>Scores</h2>")]
    assert 'href="students/e-broken/report.html"' in failures and "disk full" in failures
    kinds = {k["kind"]: k for k in stats.kinds(klass)}
    assert kinds["grader"]["students"] == ["e-broken"]
    assert (kinds["wrong"]["checks"], len(kinds["wrong"]["students"])) == (2 + 2 + 3, 3)
    for sid in klass:
        assert f'<a href="students/{sid}/report.html">{sid}</a>' in page
    rates = {c["number"]: c for c in stats.check_rates(a2, klass)}
    assert (rates["2.1"]["passed"], rates["2.1"]["graded"]) == (4, 6)  # e-broken kept its first two checks
    assert (rates["9.3"]["passed"], rates["9.3"]["graded"], rates["9.3"]["visibility"]) == (4, 5, "after_published")
    histogram = stats.histogram([r["score"] for sid, r in klass.items() if sid != "e-broken"], a2.max_score)
    bars = range(0, int(a2.max_score) + 1, math.ceil(a2.max_score / 20))  # one bar per point up to 20 points
    assert [b["count"] for b in histogram["bars"] if b["count"]] == [3, 2] and len(histogram["bars"]) == len(bars)


def test_grades_csv_parses_back(klass, a2):
    rows = list(csv.reader(io.StringIO(grades_csv(a2, klass))))
    header, possible, *students = rows
    assert header[:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Total"]
    assert header[6:] == [f"{A2}: {p.id}" for p in a2.parts]
    assert possible[0] == "Points Possible" and float(possible[5]) == a2.max_score
    assert [float(x) for x in possible[6:]] == [sum(c.points for c in p.checks) for p in a2.parts]
    assert [r[0] for r in students] == sorted(klass) and all(r[3] == r[0] for r in students)
    by_id = {r[0]: r for r in students}
    for sid in ("a-sqrt", "c-after", "d-clean"):
        assert float(by_id[sid][5]) == klass[sid]["score"] == sum(float(x) for x in by_id[sid][6:])
    assert float(by_id["a-sqrt"][6 + [p.id for p in a2.parts].index("attn_scaled")]) == 0
    assert by_id["e-broken"][5:] == [""] * (1 + len(a2.parts))  # never a false 0


def test_checks_csv_has_a_row_per_student_and_check_with_its_kind_and_rules(klass, a2):
    broken = {"rule": "a2s2-from-scratch", "broken": True, "cost": "zero",
              "checks": {"test_self_attention_single_head": {"ran": [], "uses": []}}}
    kept = {"rule": "other", "broken": False, "cost": "flag", "checks": {"test_attn_scaled": {}}}
    klass = {**klass, "d-clean": {**klass["d-clean"], "extra_data": {**klass["d-clean"]["extra_data"],
                                                                     "rules": [broken, kept]}}}
    header, *rows = list(csv.reader(io.StringIO(checks_csv(a2, klass))))
    assert header == ["Student", "Part", "Check", "Score", "Max score", "Kind", "Rules"]
    by = {(r[0], r[2]): r for r in rows}
    assert [r for r in rows if r[0] == "e-broken"] == [["e-broken", "", "", "", "", "grader", ""]]
    for sid in (s for s in klass if s != "e-broken"):
        assert sum(r[0] == sid for r in rows) == len(klass[sid]["tests"])
        assert sum(float(r[3]) for r in rows if r[0] == sid) == klass[sid]["score"]
    failed = next(t for t in klass["a-sqrt"]["tests"] if t["tags"][1] == "attn_scaled")
    assert by[("a-sqrt", "test_attn_scaled")][1::2][:3] == ["attn_scaled", "0", CheckKind.of(failed)]
    assert by[("d-clean", "test_attn_scaled")][5:] == ["passed", ""]
    assert by[("d-clean", "test_self_attention_single_head")][6] == "a2s2-from-scratch: zero"


def test_reports_of_an_empty_class(a2):
    assert "No failing check matched a known bug." in class_report(a2, {}, {})
    assert grades_csv(a2, {}).count("\n") == 2
    assert checks_csv(a2, {}).count("\n") == 1
