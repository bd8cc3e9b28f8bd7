"""Submission intake: lenient file matching, notebooks, zips, encodings, IPython lines, missing files."""
import zipfile

import nbformat
import pytest

from graders.submission import collect, normalize


def notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbformat.v4.new_code_cell(c)
                for c in cells]
    nbformat.write(nb, path)


@pytest.mark.parametrize("name", ["A2S2.py", "a2s2.py", "A2S2 (1).py", "a2s2.ipynb", "A2S2-copy.py", "A2S2 copy 2.py"])
def test_names_match_leniently(name):
    assert normalize(name) == normalize("A2S2.py")


def test_folder_prefers_the_exact_name_and_says_what_it_graded(tmp_path):
    (tmp_path / "A2S2 (1).py").write_text("x = 1\n")
    (tmp_path / "A2S2.py").write_text("y = 2\n")
    source = collect(tmp_path, ["A2S2.py"], tmp_path / "work").files["A2S2.py"]
    assert source.path.name == "A2S2.py" and source.cells[0].text == "y = 2\n"
    assert "graded A2S2.py as A2S2.py" in source.notices
    assert any("A2S2 (1).py" in n and "not graded" in n for n in source.notices)


def test_missing_file_lists_what_was_found(tmp_path):
    (tmp_path / "attention.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    source = collect(tmp_path, ["A2S2.py"], tmp_path / "work").files["A2S2.py"]
    assert source.problem == "A2S2.py was not found in the submission; files found: attention.py, notes.txt"


def test_notebook_code_cells_without_ipython_lines(tmp_path):
    notebook(tmp_path / "a2s2.ipynb", "md:# 2.1", "!pip install torch\nimport torch\n  %time x = 1",
             "%%bash\necho hi", "%%time\ndef f():\n    return 1")
    source = collect(tmp_path / "a2s2.ipynb", ["A2S2.py"], tmp_path / "work").files["A2S2.py"]
    assert [c.file for c in source.cells] == ["a2s2.ipynb cell 2", "a2s2.ipynb cell 4"]
    assert source.cells[0].text == "pass\nimport torch\n  pass"
    assert source.cells[1].text == "pass\ndef f():\n    return 1"
    assert any("%%bash" in n for n in source.notices)


def test_numbered_markdown_headings_go_with_the_next_code_cell(tmp_path):
    notebook(tmp_path / "a2s2.ipynb", "md:# CSE 447 A2\n## 2.1 Attention\n### Setup", "import torch",
             "md:### Step 2: the mask", "x = 1", "md:## **Section 2.2** Training", "%%bash\necho", "md:Part 3 notes",
             "y = 2")
    source = collect(tmp_path / "a2s2.ipynb", ["A2S2.py"], tmp_path / "work").files["A2S2.py"]
    assert [[(h.number, h.title) for h in c.headings] for c in source.cells] == [
        [((2, 1), "2.1 Attention")], [], [((2, 2), "Section 2.2 Training")]]


def test_single_file_with_another_name_is_graded_with_a_notice(tmp_path):
    (tmp_path / "my_attention.py").write_text("z = 3\n")
    source = collect(tmp_path / "my_attention.py", ["A2S2.py"], tmp_path / "work").files["A2S2.py"]
    assert source.problem is None and "graded my_attention.py as A2S2.py" in source.notices


def test_a_lone_file_is_graded_as_the_first_source_file_of_several(tmp_path):
    (tmp_path / "my_attention.py").write_text("z = 3\n")
    files = collect(tmp_path / "my_attention.py", ["A2S2.py", "A2S1.py", "answers.yaml"], tmp_path / "work").files
    assert files["A2S2.py"].problem is None
    assert "was not found" in files["A2S1.py"].problem and "was not found" in files["answers.yaml"].problem


@pytest.mark.parametrize("name", ["answers.yaml", "answers.yml", "Answers.json", "answers (1).yaml"])
def test_data_files_are_located_but_never_read_as_code(tmp_path, name):
    (tmp_path / name).write_text("q: [1, 2]\n")
    (tmp_path / "answers.py").write_text("x = 1\n")
    source = collect(tmp_path, ["A2S2.py", "answers.yaml"], tmp_path / "work").files["answers.yaml"]
    assert source.problem is None and source.path.name == name and source.cells == []


def test_zip_entries_outside_the_archive_root_are_skipped(tmp_path):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hw/A2S2.py", "ok = 1\n")
        z.writestr("../evil.py", "bad = 1\n")
        z.writestr("/abs.py", "bad = 1\n")
    work = tmp_path / "work"
    source = collect(archive, ["A2S2.py"], work).files["A2S2.py"]
    assert source.cells[0].text == "ok = 1\n"
    assert not (tmp_path / "evil.py").exists() and not list(work.rglob("abs.py"))
    assert "refused 2 zip entries: ../evil.py (a link, or a path outside the archive); /abs.py" in source.notices[-1]


def test_a_broken_zip_is_reported(tmp_path):
    (tmp_path / "sub.zip").write_bytes(b"PK\x03\x04 not really")
    source = collect(tmp_path / "sub.zip", ["A2S2.py"], tmp_path / "work").files["A2S2.py"]
    assert "was not found" in source.problem and "the archive cannot be read" in source.notices[-1]


def test_cp1252_source_is_decoded_with_a_notice(tmp_path):
    (tmp_path / "A2S2.py").write_bytes("# café\nx = 1\n".encode("cp1252"))
    source = collect(tmp_path, ["A2S2.py"], tmp_path / "work").files["A2S2.py"]
    assert "café" in source.cells[0].text and any("cp1252" in n for n in source.notices)


def test_binary_and_broken_notebooks_get_a_clear_problem(tmp_path):
    (tmp_path / "A2S2.py").write_bytes(b"\x7fELF\0\0\0")
    assert "binary file" in collect(tmp_path, ["A2S2.py"], tmp_path / "w").files["A2S2.py"].problem
    (tmp_path / "A2S2.py").unlink()
    (tmp_path / "A2S2.ipynb").write_text("{not json")
    assert "not a valid notebook" in collect(tmp_path, ["A2S2.py"], tmp_path / "w").files["A2S2.py"].problem
