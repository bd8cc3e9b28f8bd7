"""Assignment specs: pydantic models for each pack's <id>.yaml, loading with errors that name the file and field."""
import os
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graders import packs

# A folder of spec files that replace the packs' specs of the same ids (tests and staff experiments: tighter limits,
# a part left out). Named only by this variable, never found by itself.
OVERRIDES = "GRADERS_SPECS"


class SpecError(Exception):
    pass


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Visibility(StrEnum):
    """Gradescope's visibility values; only `visible` checks run in a student's self-check."""
    hidden = "hidden"
    after_due_date = "after_due_date"
    after_published = "after_published"
    visible = "visible"


class Tolerance(Strict):
    rtol: float = Field(ge=0)
    atol: float = Field(ge=0)


class Limits(Strict):
    call_seconds: float = Field(10.0, gt=0, description="time of one call into student code: its own time, computing "
                                "or waiting, never the time a busy machine gave to other work (sandbox/clock.py)")
    submission_seconds: float = Field(120.0, gt=0, description="time of all calls of one submission, counted alike")
    memory_mib: int = Field(4096, ge=1024, description="address space of the sandbox child (torch needs ~700)")


class SourceSpec(Strict):
    name: str = Field(description="file name as the handout gives it, e.g. A2S2.py")
    module: str = Field("", description="module name the student's code is loaded as (not for a `data` file)")
    functions: list[str] = Field([], description="functions the checks call; they and what they need are extracted")
    classes: list[str] = Field([], description="classes the checks build objects from (a Dataset, an nn.Module)")
    found_by: str = Field("", description="a regular expression: when no file has this name, the code file that is "
                                          "none of the spec's other files and matches it most often is graded as "
                                          "this one, with a note (PA2's model.py for transformer.py)")
    any_classes: bool = Field(False, description="students name their own classes (UCSD CSE 256 PA2): every "
                                                 "top-level class is extracted; the checks find them by what they do")
    other_files: bool = Field(False, description="with any_classes: every other Python file handed in (classifier.py, "
                                                 "main.py, ...) is extracted the same way and loaded as a module "
                                                 "named after it, its top level never run, so the checks find "
                                                 "classes in every file and the files' imports of each other work "
                                                 "(graders/others.py)")
    given: bool = Field(False, description="handout code the grader supplies from its checks package's given/ "
                                           "folder (e.g. utils.py); a copy in the submission is not used")
    values: list[str] = Field([], description="top-level names whose values the checks read, each assignment in "
                                              "order (a notebook assigns m_key once per question): graders/values.py")
    data: bool = Field(False, description="a file the grader reads as data and never runs: answers (answers.yaml, "
                                          "found as .yaml, .yml or .json: graders/checks/written.py), or Python "
                                          "read with ast (PA2's main.py)")
    optional: bool = Field(False, description="read when handed in; when not, nothing is lost or said (no part "
                                              "grades it)")
    own_session: bool = Field(False, description="the file's code runs in a sandbox child of its own (with the given "
                                                 "files), so no other file of the hand-in can reach the harness that "
                                                 "grades it: one file's code cannot forge another part's results")
    preload: list[str] = Field([], description="modules the sandbox imports before the student's clock starts when "
                                               "this file is handed in (a library such as transformers, and the "
                                               "submodules it loads lazily): importing them is the grader's cost")

    @model_validator(mode="after")
    def _module_unless_data(self):
        if not self.data and not self.module:
            raise ValueError(f"{self.name}: a source file needs `module` (or `data: true` for a file of answers)")
        if self.other_files and not self.any_classes:
            raise ValueError(f"{self.name}: `other_files` finds classes, so it goes with `any_classes`")
        return self


class Check(Strict):
    name: str = Field(description="the pytest test function in the assignment's check module, or for a "
                                  "threshold check (`job` set) a name of its own")
    title: str
    points: float = Field(ge=0)
    visibility: Visibility = Visibility.visible
    job: str | None = Field(None, description="a threshold check: passes when the metric of this job of `jobs` "
                                              "reaches the profile's threshold (graders/thresholds.py)")


class Profile(Strict):
    threshold: float = Field(description="the metric a submission must reach, e.g. 0.10 for 10% dev accuracy")
    minutes: float = Field(gt=0, description="the job's time limit")
    hp: dict[str, bool | int | float | str] = Field({}, description="hyper-parameters handed to the job")


class Job(Strict):
    driver: str = Field(description="grader-side module: inputs(profile, hp, data_dir, seed) gives the job's arguments "
                                    "and what only the grader keeps; score(result, kept) the metric; JOB the "
                                    "job's own source, run in the sandbox next to the student's code; optionally "
                                    "submission_args(submission), arguments read from the submission as data")
    profiles: dict[str, Profile] = Field(description="smoke (CPU, generated data) and full (the course's run)")


def part_title(names):
    """A part's title from its checks' names in results.json ("part title: check title", either may hold ": "):
    the longest ": "-ended prefix the names share, or for a single check everything before its last ": ". The
    reports read it back this way (results.json has no field for it), so every part must survive it."""
    if len(names) == 1:
        return names[0].rpartition(": ")[0]
    prefix = os.path.commonprefix(names)
    return prefix[:prefix.rfind(": ")] if ": " in prefix else ""


class Part(Strict):
    id: str
    title: str
    file: str = Field(description="the source file this part grades")
    checks: list[Check]

    @model_validator(mode="after")
    def _title_read_back(self):
        names = [f"{self.title}: {c.title}" for c in self.checks]
        if self.checks and part_title(names) != self.title:
            raise ValueError(f"part {self.id}: a report would read its title as {part_title(names)!r}: a lone "
                             "check's title, or the start all its checks' titles share, must not hold ': '")
        return self


class Deduct(Strict):
    deduct: float = Field(gt=0, description="points taken off the submission's score, once however often it is broken")


class Rule(Strict):
    """A handout's "from scratch": library APIs the graded code of a file may not use (graders/rules.py finds them
    in the source and in what the sandbox saw run)."""
    id: str
    file: str = Field(description="the spec file whose graded code the rule covers")
    within: list[str] = Field([], description="the functions or classes it covers, with the graded code they read; "
                                              "[] for all of the file's graded code")
    forbid: list[str] = Field(min_length=1, description="qualified names of the APIs the code may not use "
                              "(torch.nn.functional.scaled_dot_product_attention); `*` matches within a name "
                              "(torch.nn.Transformer*Layer); a member (X.forward) or a subclass of one counts")
    allow: list[str] = Field([], description="APIs the handout allows although a `forbid` pattern matches them")
    cost: Literal["flag", "zero"] | Deduct = Field("flag", description="flag: staff see it, no points lost; "
                                                   "{deduct: N}: N points off; zero: the checks that ran the "
                                                   "code that uses it score 0")
    source: str = Field(description="where the handout says so")


class Assignment(Strict):
    id: str
    title: str
    course: str
    handout: str = Field("", description="the handout this spec follows (offering, term, starter) and what it "
                                         "assumes where the handout is silent")
    checks: str | None = Field(None, description="Python package holding the pytest checks; leave it out in a pack "
                                                  "(the pack the spec is in), give it for a spec outside one")
    files: list[SourceSpec]
    parts: list[Part]
    tolerances: dict[str, Tolerance] = Field(description="per dtype, e.g. float32: {rtol, atol}")
    limits: Limits = Limits()
    options: dict[str, bool | int | float | str] = Field(
        {}, description="settings the assignment's checks read, e.g. which readings of the handout earn credit")
    jobs: dict[str, Job] = Field({}, description="training jobs that threshold checks score")
    rules: list[Rule] = Field([], description="library shortcuts the handout forbids, per file (graders/rules.py)")

    @model_validator(mode="after")
    def _consistent(self):
        if self.checks is None:  # the loader gives a pack's spec its pack (load); anything else must say
            raise ValueError("checks: required for a spec outside a pack")
        names = {f.name for f in self.files}
        for i, rule in enumerate(self.rules):
            if rule.file not in names:
                raise ValueError(f"rules.{i}.file: {rule.file!r} is not one of files: {sorted(names)}")
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rules: ids must be unique; repeated: {sorted({i for i in ids if ids.count(i) > 1})}")
        for i, part in enumerate(self.parts):
            if part.file not in names:
                raise ValueError(f"parts.{i}.file: {part.file!r} is not one of files: {sorted(names)}")
        checks = [c.name for p in self.parts for c in p.checks]
        for i, part in enumerate(self.parts):
            for j, check in enumerate(part.checks):
                if check.job is not None and check.job not in self.jobs:
                    raise ValueError(f"parts.{i}.checks.{j}.job: {check.job!r} is not one of jobs: {sorted(self.jobs)}")
        duplicated = sorted({c for c in checks if checks.count(c) > 1})
        if duplicated:
            raise ValueError(f"parts: check names must be unique; repeated: {duplicated}")
        return self

    @property
    def max_score(self):
        return sum(c.points for p in self.parts for c in p.checks)

    @property
    def preload(self):
        """Every module some file's sandbox imports first, once each: what a zygote for the whole class imports."""
        return tuple({m: None for f in self.files for m in f.preload})

    def source(self, name):
        return next(f for f in self.files if f.name == name)

    def only(self, names):
        """This assignment with only the checks named, in the parts that keep one."""
        parts = [p.model_copy(update={"checks": [c for c in p.checks if c.name in names]}) for p in self.parts]
        return self.model_copy(update={"parts": [p for p in parts if p.checks]})


class Variant(Strict):
    """Another offering of an assignment: a spec that `extends` another and says only what differs, so a fix
    to the shared checks reaches every offering and no spec is a copy of another."""
    extends: str = Field(description="id of the spec this offering differs from (specs/<id>.yaml)")
    id: str
    title: str
    handout: str = Field(description="the handout this offering follows, and what it assumes")
    options: dict[str, bool | int | float | str] = Field({}, description="set over the base's options")
    without_files: list[str] = Field([], description="the base's files this offering does not collect")
    without_parts: list[str] = Field([], description="the base's parts (by id) this offering does not grade")
    files: list[dict] = Field([], description="files added, or replacing the base's file of the same name")
    parts: list[dict] = Field([], description="parts added, or replacing the base's part of the same id")
    tolerances: dict[str, dict] = Field({}, description="set over the base's, per dtype")
    limits: dict = Field({}, description="set over the base's limits")
    without_rules: list[str] = Field([], description="the base's rules (by id) this offering does not have")
    rules: list[dict] = Field([], description="rules added, or replacing the base's rule of the same id")


def _replaced(items, changes, key):
    """`items` with each of `changes` in the place of the item of the same key, or appended."""
    changed = {c[key]: c for c in changes}
    kept = [changed.pop(i[key], i) for i in items]
    return kept + [c for c in changes if c[key] in changed]


def _apply(base, variant, path):
    """The base spec's data with the variant's differences."""
    for field, listed, key in (("without_files", base["files"], "name"), ("without_parts", base["parts"], "id"),
                               ("without_rules", base.get("rules", []), "id")):
        unknown = set(getattr(variant, field)) - {i[key] for i in listed}
        if unknown:
            raise SpecError(f"{path}: field {field}: {sorted(unknown)} not in {variant.extends}")
    gone = set(variant.without_files)
    data = {**base, "id": variant.id, "title": variant.title, "handout": variant.handout,
            "options": {**base.get("options", {}), **variant.options},
            "tolerances": {**base.get("tolerances", {}), **variant.tolerances},
            "limits": {**base.get("limits", {}), **variant.limits}}
    data["files"] = _replaced([f for f in base["files"] if f["name"] not in gone], variant.files, "name")
    data["parts"] = _replaced([p for p in base["parts"] if p["id"] not in set(variant.without_parts)
                               and p["file"] not in gone], variant.parts, "id")
    data["rules"] = _replaced([r for r in base.get("rules", []) if r.get("file") not in gone
                               and r.get("id") not in set(variant.without_rules)], variant.rules, "id")
    return data


def _data(path, seen=()):
    """The spec's data, with a variant's base resolved and `checks` defaulting to the spec's pack."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise SpecError(f"{path}: cannot read spec: {e}") from None
    if not isinstance(data, dict):
        return data
    if "extends" in data:
        variant = _validated(Variant, data, path)
        base = path.with_name(f"{variant.extends}.yaml")
        if not base.exists() or base in seen:
            raise SpecError(f"{path}: field extends: {variant.extends!r} is not another spec in {path.parent}")
        return _apply(_data(base, (*seen, path)), variant, path)
    if "checks" not in data:
        pack = _pack_at(path, data.get("id"))
        if pack is None:
            raise SpecError(f"{path}: field checks: required for a spec outside a pack")
        data["checks"] = pack.module
    return data


def _pack_at(path, assignment_id):
    """The pack whose spec `path` is, or whose spec of the same id it stands in for (an override, a copy)."""
    folder = path.resolve().parent.parent  # <pack>/specs/<id>.yaml
    known = packs.specs()
    return next((p for p in packs.packs() if p.folder.resolve() == folder),
                known[assignment_id][1] if assignment_id in known else None)


def _paths():
    """{assignment id: spec path}: every pack's specs, with the override folder's in their place."""
    found = {assignment_id: path for assignment_id, (path, _) in packs.specs().items()}
    if os.environ.get(OVERRIDES):
        found |= {p.stem: p for p in sorted(Path(os.environ[OVERRIDES]).glob("*.yaml"))}
    return found


def _validated(model, data, path):
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "(top level)"
        raise SpecError(f"{path}: field {field}: {first['msg']}" + (f" ({len(e.errors()) - 1} more errors)"
                                                                      if len(e.errors()) > 1 else "")) from None


def load(path):
    path = Path(path)
    spec = _validated(Assignment, _data(path, (path,)), path)
    try:
        model = options_model(spec.checks)
    except ImportError:  # the checks cannot be imported: grading says so, naming them (graders/plugin.py)
        return spec
    try:
        options = model.model_validate(spec.options)
    except ValidationError as e:
        first = e.errors()[0]
        raise SpecError(f"{path}: field options.{'.'.join(map(str, first['loc']))}: {first['msg']} (the options "
                        f"{spec.checks} reads: {', '.join(model.model_fields) or 'none'})") from None
    return spec.model_copy(update={"options": options.model_dump()})


class Options(BaseModel):
    """The options a pack's checks read, declared as a subclass named `Options` in its checks package, each field
    made with `option()`: a spec's option of another name or type is an error, one it leaves out has the default."""
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def option(default, description, checks):
    """A spec option: its default, what it means, and the checks that read it (an offering that sets it otherwise
    than its base needs samples of those checks: graders/verify.py)."""
    return Field(default, description=description, json_schema_extra={"checks": list(checks)})


def options_model(checks):
    """The Options model a checks package declares; without one, its specs may set no option."""
    import importlib

    return getattr(importlib.import_module(checks), "Options", Options)


def option_readers(checks):
    """{option: the checks that read it} for a checks package."""
    return {name: f.json_schema_extra["checks"] for name, f in options_model(checks).model_fields.items()}


def files(assignment_id):
    """The spec files an assignment reads: its own and those it extends, so a package can ship them all."""
    path = _paths()[assignment_id]
    data = yaml.safe_load(path.read_text())
    base = data.get("extends") if isinstance(data, dict) else None
    return [path] + (files(base) if base else [])


def ids():
    """Every assignment id, read from the spec files' names alone (no spec is loaded)."""
    return sorted(_paths())


def available():
    """Every assignment's spec, by id, across the built-in packs and every course."""
    specs = {}
    for assignment_id, path in sorted(_paths().items()):
        spec = load(path)
        if spec.id != assignment_id:
            raise SpecError(f"{path}: field id: {spec.id!r} differs from the file name {path.stem!r}")
        specs[spec.id] = spec
    return specs


def get(assignment_id):
    path = _paths().get(assignment_id)
    if path is None:
        raise SpecError(f"unknown assignment {assignment_id!r}; known: {', '.join(sorted(_paths())) or 'none'}")
    return load(path)


def json_schema():
    return Assignment.model_json_schema()
