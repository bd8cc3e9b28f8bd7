"""Find the files a spec names in a submission (file, folder, .zip or .ipynb) and read their code cells."""
import contextlib
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from graders import sections

MAX_SOURCE_BYTES = 2 << 20
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_BYTES = 64 << 20
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
SKIP_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[\s_-]+copy(\s*\d+)?|-\d+)$")
CELL_MAGICS_KEPT = ("%%time", "%%timeit", "%%capture")
CODE_SUFFIXES = (".py", ".ipynb")
DATA_SUFFIXES = (".yaml", ".yml", ".json")  # a spec file named with one of these is data: located, never run
# A .py saved from a notebook: Colab's export opens with a '"""A2S2.ipynb' docstring; nbconvert marks cells with
# `# In[3]:`, jupytext and VS Code with `# %%`.
NOTEBOOK_EXPORT = re.compile(r'\A(\s*#[^\n]*\n)*\s*("""|\'\'\')\s*\S+\.ipynb\b|^# (In\[[ \d]*\]:|%%)', re.M)


@dataclass
class Cell:
    """Code as the student wrote it; `file` is how feedback names it (`a2s2.ipynb cell 4`); `headings` are the
    section headings of the markdown cells just before it (graders/sections.py)."""
    text: str
    file: str
    headings: list[sections.Heading] = field(default_factory=list)


@dataclass
class SourceFile:
    name: str                      # the name the spec uses, e.g. A2S2.py
    path: Path | None = None       # what was graded, None when missing
    cells: list[Cell] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    problem: str | None = None     # why it could not be read at all
    by_content: bool = False       # no file had the name: the one graded was found by its content (spec found_by)


@dataclass
class Intake:
    files: dict[str, SourceFile]
    found: list[str]
    code: list[Path] = field(default_factory=list)  # every code file handed in, named by the spec or not


def normalize(name):
    """`A2S2 (1).py`, `a2s2-copy.ipynb` and `A2S2.py` all become `a2s2`."""
    stem = Path(name).stem.strip().lower()
    return COPY_SUFFIX.sub("", stem)


def collect(submission, file_names, workdir, found_by=None):
    """Match each spec file name to a file of the submission and read it; a name no file has is looked for by
    content where `found_by` ({name: regular expression}) says how (by_content)."""
    submission = Path(submission)
    refused = []
    if submission.suffix.lower() == ".zip":
        root, refused = _unpack(submission, Path(workdir))
    else:
        root = submission
    candidates = sorted(p for p in _walk(root) if p.suffix.lower() in CODE_SUFFIXES)
    data = sorted(p for p in _walk(root) if p.suffix.lower() in DATA_SUFFIXES)
    found = sorted(str(p.relative_to(root)) if root.is_dir() else p.name for p in _walk(root))
    files = {}
    code_names = [n for n in file_names if Path(n).suffix.lower() not in DATA_SUFFIXES]
    # A lone file named like none of the spec's files (my_attention.py) is graded as the spec's first source file.
    lone = root.is_file() and not any(normalize(p.name) == normalize(n) for p in candidates for n in code_names)
    for name in file_names:
        is_data = Path(name).suffix.lower() in DATA_SUFFIXES
        matches = [p for p in (data if is_data else candidates) if normalize(p.name) == normalize(name)]
        if not matches and lone and candidates and name == code_names[0]:
            matches = candidates
        named = {p for p in candidates for n in code_names if normalize(p.name) == normalize(n)}
        stand_in = [] if matches else by_content([p for p in candidates if p not in named], (found_by or {}).get(name))
        files[name] = _read_best(name, matches or stand_in, found, read=not is_data)
        if stand_in and not matches:
            files[name].by_content = True
            files[name].notices.insert(0, f"no {name} was handed in: graded {stand_in[0].name} as {name}, the file "
                                          "whose content fits it best")
        if files[name].path is None and refused:
            files[name].problem += f"; refused zip entries: {'; '.join(refused[:5])}"
        links = _links(root)
        if links:
            files[name].notices.append(f"ignored {len(links)} symbolic link(s): {', '.join(links[:5])}")
        if refused:
            files[name].notices.append(f"refused {len(refused)} zip entries: {'; '.join(refused[:5])}")
    return Intake(files, found, candidates)


def by_content(candidates, pattern):
    """[the code file among `candidates` with the most matches of `pattern`], or [] (no pattern, or no match).
    The pattern comes from the spec and is searched in at most MAX_SOURCE_BYTES of each file."""
    if not pattern:
        return []
    counts = []
    for p in candidates:
        try:
            with open(p, "rb") as f:
                text = f.read(MAX_SOURCE_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        counts.append((len(re.findall(pattern, text)), p))
    best = max(counts, key=lambda c: c[0], default=(0, None))
    return [best[1]] if best[0] else []


def _walk(root):
    if root.is_file():
        yield root
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink() and not SKIP_DIRS & set(p.relative_to(root).parts):
            yield p


def _links(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_symlink()) if root.is_dir() else []


def _unpack(archive, workdir):
    """Extract a zip; refuse entries that are absolute, climb out with `..` or are links, and stop at
    MAX_ZIP_ENTRIES entries or MAX_ZIP_BYTES bytes (zip bombs). Returns the folder and what was refused."""
    dest, refused, total = workdir / "unzipped", [], 0
    dest.mkdir(parents=True, exist_ok=True)
    try:
        z = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        return dest, [f"the archive cannot be read ({e})"]
    with z:
        for n, info in enumerate(z.infolist()):
            parts = Path(info.filename).parts
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if n >= MAX_ZIP_ENTRIES or total + info.file_size > MAX_ZIP_BYTES:
                refused.append(f"{info.filename} (past {MAX_ZIP_ENTRIES} entries or {MAX_ZIP_BYTES >> 20} MiB)")
                break
            if is_link or info.filename.startswith("/") or ".." in parts:
                refused.append(f"{info.filename} (a link, or a path outside the archive)")
                continue
            if info.is_dir():
                continue
            target = dest.joinpath(*parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(target, "wb") as out:
                    total += info.file_size
                    shutil.copyfileobj(src, out, MAX_SOURCE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, ValueError, RecursionError, EOFError) as e:
                refused.append(f"{info.filename[:100]} ({type(e).__name__}: {str(e)[:100]})")
                with contextlib.suppress(OSError):  # never grade half of a damaged member
                    target.unlink()
    return dest, refused


def read(path):
    """A code file the spec does not name (graders/others.py), read as the spec's files are."""
    source = SourceFile(path.name, path)
    try:
        source.cells = _read_cells(path, source.notices)
    except ValueError as e:
        source.problem = f"{path.name} could not be read: {e}"
    return source


def _read_best(name, matches, found, read=True):
    source = SourceFile(name)
    if not matches:
        source.problem = f"{name} was not found in the submission; files found: {', '.join(found) or 'none'}"
        return source
    exact = [p for p in matches if p.name == name or p.as_posix().endswith("/" + name)]  # name may be gpt/model.py
    best = (exact or sorted(matches, key=lambda p: (p.suffix != Path(name).suffix, len(p.name), str(p))))[0]
    source.path = best
    if not exact:  # said only when the name differs: a note on every file would hide the ones that matter
        source.notices.append(f"graded {best.name} as {name}")
    others = [p.name for p in matches if p != best]
    if others:
        source.notices.append(f"also found {', '.join(others)}; those were not graded")
    if not read:
        return source
    try:
        source.cells = _read_cells(best, source.notices)
    except ValueError as e:
        source.problem = f"{best.name} could not be read: {e}"
    return source


def _read_cells(path, notices):
    data = path.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(f"it is {len(data)} bytes, more than the {MAX_SOURCE_BYTES} bytes a source file may have")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        notices.append(f"{path.name} is UTF-16; read it as such (save as UTF-8 to be safe)")
        text = data.decode("utf-16")
    elif b"\0" in data:
        raise ValueError("it is a binary file, not Python source")
    else:
        text = _decode(data, path.name, notices)
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Python accepts all three line endings
    if path.suffix.lower() == ".ipynb":
        return _notebook_cells(text, path.name, notices)
    if NOTEBOOK_EXPORT.search(text):  # only there are `!pip` and `%matplotlib` lines the notebook's IPython
        text = _drop_ipython(text, path.name, notices)
    return [Cell(text, path.name)]


def _decode(data, name, notices):
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != ENCODINGS[0]:
            notices.append(f"{name} is not UTF-8; read it as {encoding}")
        return text
    raise ValueError("it is not text")


def _notebook_cells(text, name, notices):
    import nbformat

    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:  # nbformat raises several unrelated types for bad JSON or schema
        raise ValueError(f"it is not a valid notebook ({type(e).__name__}: {str(e)[:200]})") from None
    cells, headings = [], []
    for i, cell in enumerate(nb.cells, start=1):
        source = cell.get("source")
        if isinstance(source, list):
            source = "".join(x for x in source if isinstance(x, str))
        source = source.replace("\r\n", "\n").replace("\r", "\n") if isinstance(source, str) else ""
        if cell.cell_type == "markdown":
            headings += sections.markdown_headings(source)
        if cell.cell_type != "code":
            continue
        first = source.lstrip().split("\n", 1)[0]
        if first.startswith("%%") and not first.startswith(CELL_MAGICS_KEPT):
            notices.append(f"{name} cell {i} is a {first.split()[0]} cell, not Python; skipped it")
            continue
        cells.append(Cell(_drop_ipython(source, f"{name} cell {i}", notices), f"{name} cell {i}", headings))
        headings = []
    return cells


def _drop_ipython(text, where, notices):
    """Replace shell escapes and magics (`!pip install`, `%matplotlib`) that begin a statement by `pass`, keeping
    line numbers; a `%` or `!` line inside brackets, a string or a backslash continuation is Python."""
    lines, dropped = text.split("\n"), []
    for i in _statement_lines(lines):
        stripped = lines[i].lstrip()
        dropped.append(stripped.split()[0] if stripped.split() else stripped)
        lines[i] = lines[i][: len(lines[i]) - len(stripped)] + "pass"
    if dropped:
        notices.append(f"{where}: ignored {len(dropped)} IPython line(s) ({', '.join(sorted(set(dropped))[:4])})")
    return "\n".join(lines)


def _statement_lines(lines):
    """Indices of the lines that start with `!` or `%` where a statement begins: outside brackets, strings and
    backslash continuations. IPython does not parse those lines as Python, so neither does the scan."""
    found, state = [], (0, None, False)
    for i, line in enumerate(lines):
        if state == (0, None, False) and line.lstrip()[:1] in ("!", "%"):
            found.append(i)
        else:
            state = _scan(line, *state[:2])
    return found


def _scan(line, depth, quote):
    """(open brackets, the open string's quote or None, whether a backslash continues the line) after `line`,
    given the brackets and string open before it."""
    j, continued = 0, False
    while j < len(line):
        c = line[j]
        if quote:
            if c == "\\":
                j += 1
            elif line.startswith(quote, j):
                j, quote = j + len(quote) - 1, None
        elif c == "#":
            break
        elif c in "\"'":
            quote = c * 3 if line.startswith(c * 3, j) else c
            j += len(quote) - 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        elif c == "\\" and j == len(line) - 1:
            continued = True
        j += 1
    if quote and len(quote) == 1 and not line.endswith("\\"):
        quote = None  # an unterminated one-line string is a syntax error, not a string that goes on
    return depth, quote, continued


def scratch_dir():
    return Path(tempfile.mkdtemp(prefix="graders-"))
