"""`graders verify ID`: a pack's sample rules, as a command course staff run (docs/authoring.md).

A sample class shows that the checks grade right: it has one `reference` sample, which gets full marks; every
sample gets the grade its expected.yaml names (each failing check's feedback holds the words it gives); and every
check the offering grades its own way is failed by some bug sample and passed by every correct one. The built-in
packs also keep this project's counts (a base offering has at least 4 correct and 14 bug samples); a course's
packs need only show that every check can fail and pass. tests/test_samples.py asserts the same for every
discovered pack, so a new pack is tested without being listed anywhere.
"""
import shutil
import tempfile
from pathlib import Path

import yaml

from graders import expected, packs
from graders import spec as specs

COUNTS = {"correct": 4, "bug": 14}  # the built-in packs' base offerings; a variant or a course's pack: 1 each


def samples(assignment_id):
    """The sample folders of an offering (each with an expected.yaml), in name order."""
    return sorted(p.parent for p in packs.samples(assignment_id).glob(f"*/{expected.FILE}"))


def base_of(assignment_id):
    """The id of the spec another offering's spec extends, or None."""
    return yaml.safe_load(packs.spec_path(assignment_id).read_text()).get("extends")


def own_checks(assignment_id):
    """The checks an offering grades its own way: all of a base's; a variant's checks its base lacks, and those
    that read an option it sets otherwise (each option says which checks read it: spec.option): the base's sample
    class shows the shared checks can fail and pass."""
    spec, base = specs.get(assignment_id), base_of(assignment_id)
    checks = {c.name for p in spec.parts for c in p.checks if not c.job}
    if base is None:
        return checks
    options = specs.get(base).options
    differ = {k for k in spec.options.keys() | options.keys() if spec.options.get(k) != options.get(k)}
    readers = specs.option_readers(spec.checks)
    read = {c for k in differ for c in readers[k]}
    return (checks - {c.name for p in specs.get(base).parts for c in p.checks}) | (checks & read)


def coverage(assignment_id):
    """What the sample class lacks to show that every check can fail and pass, one line each; [] when nothing."""
    found = [expected.Expected.read(folder) for folder in samples(assignment_id)]
    kinds = [e.kind for e in found]
    problems = []
    if kinds.count("reference") != 1:
        problems.append(f"{kinds.count('reference')} samples of kind reference; a class has exactly one "
                        f"(a folder under {packs.samples(assignment_id)})")
    caught = set().union(*(set(e.fail) for e in found if e.kind == "bug"))
    missed = sorted(own_checks(assignment_id) - caught)
    if missed:
        problems.append(f"no bug sample fails {', '.join(missed)}: add one whose expected.yaml names each under fail")
    strict = packs.pack_of(assignment_id).builtin and base_of(assignment_id) is None
    for kind, least in COUNTS.items():
        if kinds.count(kind) < (least if strict else 1):
            problems.append(f"{kinds.count(kind)} {kind} samples; {'this project asks' if strict else 'a pack needs'}"
                            f" at least {least if strict else 1}")
    return problems


def outcomes(assignment_id, out):
    """Grade the sample class with `graders batch` into `out`: {sample name: lines where its grade disagrees with
    its expected.yaml}; a sample missing from the batch's output disagrees by that."""
    from graders import batch

    spec, folder = specs.get(assignment_id), packs.samples(assignment_id)
    if out.exists():  # a previous batch there would be read instead of this one's: grade afresh
        shutil.rmtree(out)
    batch.grade_class(folder, spec, out)
    found = batch.agreement(out, spec, batch.students(folder))
    return {sample.name: found.get(sample.name, ["it was not graded"]) for sample in samples(assignment_id)}


def main(args):
    """Print what the pack lacks and which samples' grades disagree (the batch says how); 0 when nothing, else 1."""
    problems = coverage(args.assignment)
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / "verify"
        wrong = {name: lines for name, lines in outcomes(args.assignment, out).items() if lines}
    for line in problems:
        print(f"MISSING  {line}")
    for name in sorted(wrong):  # the batch said how, above
        print(f"DISAGREE {name}")
    count = len(samples(args.assignment))
    print(f"{args.assignment}: {count - len(wrong)}/{count} samples graded as expected"
          + (f"; {len(problems)} sample rule(s) not met" if problems else "; every check can fail and pass"))
    return 1 if problems or wrong else 0
