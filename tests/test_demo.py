"""`graders demo` (graders/demo.py): the small class each pack names, graded as complete hand-ins, and the index
written before grading and as each class finishes."""
import pytest
import yaml

from graders import batch, demo, expected, packs
from graders import spec as specs

UW = "uw-cse447-a2"


@pytest.mark.parametrize("assignment", [a for a in specs.ids() if (packs.samples(a) / demo.LIST).is_file()])
def test_every_demo_list_names_samples_of_its_class(assignment):
    folder = packs.samples(assignment)
    names = [p.name for p in demo.chosen(folder, everything=False)]
    assert names[0] == demo.REFERENCE and len(set(names)) == len(names) <= 6
    kinds = {n: expected.Expected.read(folder / n).kind for n in names}
    assert {"reference", "correct", "bug"} <= set(kinds.values()), kinds
    assert len(demo.chosen(folder, everything=True)) == len(batch.students(folder))


def test_an_unknown_sample_in_a_demo_list_is_an_error(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / demo.LIST).write_text("samples: [reference, bug-gone]\n")
    with pytest.raises(ValueError, match="no sample named bug-gone"):
        demo.chosen(tmp_path, everything=False)
    assert [p.name for p in demo.chosen(tmp_path, everything=True)] == ["reference"]


def test_a_sample_of_one_file_is_graded_as_a_complete_hand_in(tmp_path):
    """A bug sample that implements A2S2.py alone gets the reference's other files, keeps its own A2S2.py and
    its expected failures, and names no `implements`: its score is out of the assignment's total."""
    spec, folder = specs.get(UW), packs.samples(UW)
    sample = folder / "bug-not-scaled"
    assert expected.Expected.read(sample).implements == ("A2S2.py",)
    demo.complete(sample, spec, folder / demo.REFERENCE, tmp_path / "s")
    handed = {p.name for p in (tmp_path / "s").iterdir()} - {expected.FILE}
    assert handed == {f.name for f in spec.files if not f.given}
    assert (tmp_path / "s" / "A2S2.py").read_text() == (sample / "A2S2.py").read_text()
    assert (tmp_path / "s" / "A2S3.py").read_text() == (folder / "reference" / "A2S3.py").read_text()
    want, was = expected.Expected.read(tmp_path / "s"), expected.Expected.read(sample)
    assert want.implements == () and want.fail == was.fail and want.kind == "bug"
    demo.complete(folder / "correct-einsum", spec, folder / "nowhere", tmp_path / "alone")  # no reference: as is
    assert expected.Expected.read(tmp_path / "alone").implements == ("A2S2.py",)


def test_the_index_comes_first_and_follows_the_classes(tmp_path, monkeypatch):
    """Before a class is graded the index shows it waiting or grading (and reloads itself); when all are done it
    shows their rows and stops reloading. One real class of one sample."""
    seen = []
    real = batch.grade_class

    def spy(folder, spec, out, **kw):
        seen.append((tmp_path / "index.html").read_text())
        return real(folder, spec, out, **kw)

    monkeypatch.setattr(batch, "grade_class", spy)
    monkeypatch.setattr(demo, "chosen", lambda folder, everything: [folder / demo.REFERENCE])
    assert demo.run(tmp_path, ["jhu-cs601-hw5"]) == 0
    assert len(seen) == 1 and "grading now" in seen[0] and 'http-equiv="refresh"' in seen[0]
    index = (tmp_path / "index.html").read_text()
    assert "grading now" not in index and "refresh" not in index and 'href="jhu-cs601-hw5/index.html"' in index
    assert "1 with checks pending" in index
    assert yaml.safe_load((tmp_path / ".classes" / "jhu-cs601-hw5" / "reference" / expected.FILE).read_text())
