"""The numbered sections of a notebook or script, so extraction can tell a fix from an experiment.

A section starts at a heading whose title begins with a section number (`## 2.2 Training`, `### Section 2.1`,
`# Part 3`, `§2.1`, `**Q1.4**`): a markdown heading in a notebook's markdown cells, in the markdown strings a
Colab .py export keeps (`\"\"\"## 2.2 ...\"\"\"`), or in a comment as nbconvert and jupytext write markdown
(`# ## 2.2 ...`, `# %% 2.2 ...`). A plain comment starts one only with a section word (`# Section 2.2`,
`# Part 3`): `# 1. scores` and `# 0.5 works better` are comments. Unnumbered headings (`### Setup`,
`## My solutions`) divide nothing; they sit inside a section.

Sub-sections belong to their section: the numbering level that counts is the coarsest one at which the
file's headings differ (2.1 and 2.2 in a notebook with 2.1, 2.1.3 and 2.2; 1.2, 1.3 and 1.4 in one numbered
1.2.1 ... 1.4.2).
"""
import ast
import io
import re
import tokenize
from typing import NamedTuple

WORD = r"(?:section|part|problem|question|exercise|task|q|§)"
NUMBER = r"(\d{1,2}(?:\.\d{1,2})*)(?!\.?\d)"  # 2, 2.1, 1.4.2; not 2023 or 0.125
NUMBERED = re.compile(rf"(?:{WORD}\s*)?{NUMBER}", re.IGNORECASE)
NAMED = re.compile(rf"{WORD}\s*{NUMBER}", re.IGNORECASE)
MARKDOWN = re.compile(r" {0,3}#{1,6}\s+(.+)")
EMPHASIS = "*_ \t"  # around a title: **2.2**, _2.2_


class Heading(NamedTuple):
    line: int                 # the line of its cell it stands on; 0 for a markdown cell before the code
    number: tuple[int, ...]
    title: str


def numbered(title, line=0, pattern=NUMBERED):
    """The heading a title makes when it starts with a section number, else None."""
    title = title.replace("**", "").strip(EMPHASIS)
    match = pattern.match(title)
    return Heading(line, tuple(map(int, match.group(1).split("."))), title[:80]) if match else None


def markdown_headings(text, line=0):
    """Section headings among a markdown text's lines (a markdown cell's, a Colab export's string)."""
    found = [numbered(m.group(1), line + i) for i, m in enumerate(map(MARKDOWN.match, text.split("\n"))) if m]
    return [h for h in found if h]


def code_headings(text):
    """Section headings in Python source: comments and markdown strings that start at column 0."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.start[1] != 0:
                continue
            if token.type == tokenize.COMMENT:
                found += [h for h in [_comment_heading(token.string, token.start[0])] if h]
            elif token.type == tokenize.STRING:
                found += markdown_headings(_string_value(token.string), token.start[0])
    except (tokenize.TokenError, SyntaxError):  # what parsed before the error still counts
        pass
    return found


def _comment_heading(comment, line):
    body = comment[1:].strip()
    if body.startswith("%%"):                    # a jupytext / VS Code cell marker with a title
        return numbered(body[2:].strip().removeprefix("[markdown]"), line)
    if body.startswith("#"):                     # markdown written as a comment (nbconvert, jupytext)
        return numbered(body.lstrip("#"), line)
    return numbered(body, line, NAMED)


def _string_value(source):
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return ""
    return value if isinstance(value, str) else ""


def level(headings):
    """How many leading numbers name a section: the coarsest level at which the headings differ."""
    deepest = max((len(h.number) for h in headings), default=0)
    return next((d for d in range(1, deepest) if len({h.number[:d] for h in headings}) > 1), deepest)
