"""Assignment packs: where an assignment's spec, checks, reference, given files, jobs and samples are found.

A pack is one Python package folder that holds everything of one assignment (docs/authoring.md):
`specs/<id>.yaml` for each offering it grades (a base and the variants that `extends` it), the checks (`test_*.py` and
their helpers), the trusted `reference`, `given/` handout files, `jobs/` training code, and `samples/<id>/` for
each offering's sample class. A course is a folder of packs. The engine ships one course, the package
`graders_packs` (read with importlib.resources, so it works from a wheel as from a checkout); a course keeps its
own packs outside this repository and names their folder with `--course DIR` or `GRADERS_COURSE` (several
joined with os.pathsep). A course folder goes on sys.path, so its packs import as their folder names.

Assignment ids are unique across every course: an id found twice is an error naming both places, never a silent
shadowing.
"""
import importlib.resources
import importlib.util
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUILTIN = "graders_packs"
COURSES = "GRADERS_COURSE"


class PackError(Exception):
    """A course folder or pack that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Pack:
    """One assignment pack: `module` is what its checks import as, `folder` where it lies."""

    module: str
    folder: Path
    builtin: bool

    def specs(self):
        """The spec files of the offerings this pack grades, by assignment id."""
        return {p.stem: p for p in sorted(self.folder.glob("specs/*.yaml"))}

    def samples(self, assignment_id):
        return self.folder / "samples" / assignment_id


def course_folders():
    """The course folders named by GRADERS_COURSE, in order, each checked to exist."""
    folders = []
    for entry in filter(None, os.environ.get(COURSES, "").split(os.pathsep)):
        folder = Path(entry).expanduser().resolve()
        if not folder.is_dir():
            raise PackError(f"{COURSES}: course folder {entry} does not exist")
        folders.append(folder)
    return folders


def use_course(folder):
    """Add a course folder (`--course DIR`) for this process and the graders it starts."""
    if not Path(folder).is_dir():
        raise PackError(f"--course {folder}: no such folder")
    os.environ[COURSES] = os.pathsep.join([str(Path(folder).resolve()), *filter(None, os.environ.get(COURSES,
                                                                                                       "").split(os.pathsep))])
    _catalogue.cache_clear()


def builtin_folder():
    """The built-in course's folder, or None where it is not installed (a kit or zip of a course's own pack)."""
    if importlib.util.find_spec(BUILTIN) is None:
        return None
    return Path(str(importlib.resources.files(BUILTIN)))


def _packs_in(course, builtin):
    for folder in sorted(p for p in course.iterdir() if (p / "__init__.py").is_file()):
        yield Pack(f"{BUILTIN}.{folder.name}" if builtin else folder.name, folder, builtin)


def _importable_elsewhere(name, folder):
    """Whether `name` already imports as something other than the pack in `folder` (torch, a stdlib module)."""
    found = importlib.util.find_spec(name)
    return found is not None and Path(found.origin or "").parent != folder


@cache
def _catalogue(courses):
    """(packs, {assignment id: (spec path, pack)}) for the built-in course and `courses`."""
    packs, specs = [], {}
    for course, builtin in [(builtin_folder(), True), *((c, False) for c in courses)]:
        if course is None:
            continue
        if not builtin and str(course) not in sys.path:
            sys.path.append(str(course))
        for pack in _packs_in(course, builtin):
            if not pack.builtin and (pack.module == BUILTIN or _importable_elsewhere(pack.module, pack.folder)):
                raise PackError(f"pack {pack.folder}: its folder name {pack.module!r} is already a Python module "
                                "here; rename the folder")
            packs.append(pack)
            for assignment_id, path in pack.specs().items():
                if assignment_id in specs:
                    raise PackError(f"assignment {assignment_id!r} is defined twice: {specs[assignment_id][0]} and "
                                    f"{path}; ids must be unique across the built-in packs and every course")
                specs[assignment_id] = (path, pack)
    return packs, specs


def packs():
    return _catalogue(tuple(course_folders()))[0]


def specs():
    """{assignment id: (spec path, pack)} across every course."""
    return _catalogue(tuple(course_folders()))[1]


def spec_path(assignment_id):
    return specs()[assignment_id][0]


def pack_of(assignment_id):
    return specs()[assignment_id][1]


def samples(assignment_id):
    """The sample class folder of an assignment (it may not exist: a pack need not ship samples)."""
    return pack_of(assignment_id).samples(assignment_id)


def hidden_folders():
    """Where course content lies: the sandboxed child may never read these."""
    return [f for f in (builtin_folder(), *course_folders()) if f is not None]


def hidden_modules():
    """Top-level module names the sandboxed child may never import: the built-in course and every course pack."""
    return sorted({BUILTIN} | {p.module for p in packs() if not p.builtin})
