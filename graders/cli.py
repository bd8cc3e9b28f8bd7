"""The `graders` command: list, grade, check, batch, demo, package, schema, and for pack authors new and verify
(docs/architecture.md, docs/authoring.md)."""
import argparse
import json
import os
import sys
from pathlib import Path

from graders import packs
from graders import spec as specs


def main(argv=None):
    course = argparse.ArgumentParser(add_help=False)
    course.add_argument("--course", type=Path, action="append", default=[], metavar="DIR",
                        help=f"a folder of the course's own assignment packs, besides the built-in ones (also "
                             f"${packs.COURSES}, several joined by '{os.pathsep}')")
    # The course folders first, so that every command's help lists their assignments too; `new` makes its folder.
    early = argparse.ArgumentParser(add_help=False, parents=[course])
    early.add_argument("command", nargs="?")
    known, _ = early.parse_known_args(argv)
    parser = argparse.ArgumentParser(prog="graders", description="Grade attention and transformer coursework.")
    try:
        for folder in known.course:
            if known.command == "new":
                folder.mkdir(parents=True, exist_ok=True)
            packs.use_course(folder)
        packs.specs()  # every course readable, no id twice
    except (packs.PackError, OSError) as e:
        parser.error(str(e))
    sub = parser.add_subparsers(dest="command", required=True)
    add = lambda name, **kw: sub.add_parser(name, parents=[course], **kw)  # noqa: E731 - every command knows --course
    add("list", help="one assignment a line: id, then title")
    g = add("grade", help="grade a submission and write DIR/results.json")
    g.add_argument("submission", type=Path, help="a .py or .ipynb file, a folder or a .zip")
    assignment_option(g)
    g.add_argument("--out", required=True, type=Path)
    g.add_argument("--visibility", choices=("all", "public"), default="all")
    training_options(g)
    c = add("check", help="a student's self-check: public checks only")
    c.add_argument("submission", type=Path)
    assignment_option(c)
    c.add_argument("--train", action="store_true",
                   help="also run the public threshold checks: train with the smoke profile here (minutes on a CPU); "
                        "the course autograder runs the course's full profile")
    b = add("batch", help="grade a class: one entry per student in DIR; reports and grades.csv")
    b.add_argument("dir", type=Path, help="a folder with one submission (file, folder, .zip, .ipynb) per student")
    assignment_option(b)
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--workers", type=int, default=None, help="parallel graders (default: the number of cores)")
    b.add_argument("--resume", action="store_true", help="keep students already graded in --out")
    training_options(b)
    d = add("demo", help="grade a small sample class per assignment into reports/ (--all: every sample)")
    d.add_argument("--out", type=Path, default=Path("reports"))
    d.add_argument("--assignment", action="append", metavar="ID",
                   help="only this assignment's sample class (repeatable): one of the ids below")
    list_ids(d)
    d.add_argument("--all", action="store_true", dest="everything",
                   help="every sample of each class, not the few its pack's samples/ID/demo.yaml names")
    k = add("package", help="build a Gradescope autograder zip or a student self-check kit")
    assignment_option(k)
    kind = k.add_mutually_exclusive_group(required=True)
    kind.add_argument("--gradescope", type=Path, metavar="OUT.zip")
    kind.add_argument("--student", type=Path, metavar="OUT.zip")
    s = add("schema", help="print the JSON Schema of a pack's specs/<id>.yaml")
    s.add_argument("--out", type=Path)
    n = add("new", help="create a pack for a new assignment in the course folder (a working example to change)")
    n.add_argument("id", help="the assignment id, e.g. cse599-gqa-2025")
    v = add("verify", help="check a pack's sample rules: every sample graded as its expected.yaml says, every check "
                           "failed by some bug sample and passed by every correct one")
    v.add_argument("assignment", metavar="ID")
    v.add_argument("--out", type=Path,
                   help="keep the samples' batch here, replacing what it holds (default: a temporary folder)")
    args = parser.parse_args(argv)

    if args.command == "new":
        return new_pack(args, parser)

    if args.command == "list":
        for assignment in specs.available().values():
            print(f"{assignment.id}\t{assignment.title}")
        return 0
    if args.command == "schema":
        text = json.dumps(specs.json_schema(), indent=2) + "\n"
        args.out.write_text(text) if args.out else sys.stdout.write(text)
        return 0
    if args.command == "demo":
        from graders import demo

        return demo.run(args.out, args.assignment, args.everything)
    try:
        spec = specs.get(args.assignment)
    except specs.SpecError as e:
        parser.error(str(e))
    if args.command == "verify":
        from graders import verify

        return verify.main(args)
    if args.command in ("grade", "batch"):
        try:
            args.thresholds = thresholds(args, spec)
        except ValueError as e:
            parser.error(str(e))
    if args.command == "package":
        from graders import package

        return package.main(args, spec)
    if args.command == "batch" and not args.dir.is_dir():
        parser.error(f"{args.dir} is not a folder of submissions")
    if args.command != "batch" and not args.submission.exists():
        parser.error(f"submission {args.submission} does not exist")
    if args.command == "check":
        return self_check(args, spec)
    if not isolated(args.command, args.require_isolation):
        return 2
    if args.command == "batch":
        from graders import batch

        return batch.main(args, spec)
    return grade_command(args, spec)


def assignment_option(parser):
    """--assignment, with the ids listed one a line below the options (argparse would wrap them at hyphens)."""
    parser.add_argument("--assignment", required=True, metavar="ID",
                        help="the assignment: one of the ids below (graders list gives their titles)")
    list_ids(parser)


def list_ids(parser):
    """The assignment ids one a line below the options."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "assignment ids:\n" + "\n".join(f"  {i}" for i in specs.ids())


def training_options(parser):
    """Where and how threshold checks train (graders/thresholds.py, graders/runners)."""
    t = parser.add_argument_group("training thresholds")
    t.add_argument("--profile", choices=("smoke", "full"), default="smoke",
                   help="smoke: small models on generated data, CPU, minutes; full: the course's run and data")
    t.add_argument("--runner", choices=("local", "slurm"), default="local")
    t.add_argument("--device", choices=("cpu", "cuda"), help="default: CUDA when there is a GPU")
    t.add_argument("--data-dir", type=Path, help="the course's data, for --profile full")
    t.add_argument("--partition", help="Slurm partition")
    t.add_argument("--gpus", type=int, default=0, help="Slurm GPUs per job")
    t.add_argument("--account", help="Slurm account")
    t.add_argument("--cpus", type=int, default=2, help="Slurm CPUs per job")
    t.add_argument("--slurm-folder", type=Path, help="submitit's folder, on a file system the nodes share")
    parser.add_argument("--require-isolation", action="store_true",
                        help="refuse to grade (exit 2) unless student code can run as a dedicated uid, which needs "
                             "the grader to run as root and other users to be able to run its Python")
    parser.add_argument("--budget", type=float, metavar="SECONDS",
                        help="wall-clock budget of grading one submission, after which its results.json says which "
                             "stage ran over (default: from the spec's limits, plus the training jobs' when they run)")


def isolated(command, required):
    """Whether to grade. Run as root, the sandbox runs student code as a dedicated uid; where it cannot (Python
    under a folder other users cannot traverse, as pyenv under /root), student code runs as root, which the
    terminal says before grading. `required` (--require-isolation, the Gradescope package) refuses instead."""
    from graders.sandbox.worker import NOT_ROOT, why_no_dedicated_uid

    why = why_no_dedicated_uid()
    if why is None:
        return True
    if why == NOT_ROOT:  # student code runs as this user, as on a student's laptop: no warning
        if required:
            print(f"graders {command}: refusing to grade (--require-isolation): the grader is not running as root, "
                  "so the sandbox cannot run student code as a dedicated uid. Fix: run the grader as root.",
                  file=sys.stderr)
        return not required
    fix = ("Fix: grade from a Python that other users can run (/usr/bin/python3 -m venv /opt/graders-venv and "
           "chmod -R o+rX /opt/graders-venv, as the Gradescope setup.sh does), or let them traverse that folder "
           "(chmod o+x).")
    if required:
        print(f"graders {command}: refusing to grade (--require-isolation): {why}; student code would run as root. "
              f"{fix}", file=sys.stderr)
        return False
    print(f"graders {command}: WARNING: student code will run as root: {why}. {fix} "
          "Add --require-isolation to refuse to grade like this.", file=sys.stderr, flush=True)
    return True


def thresholds(args, spec):
    """How this command grades threshold checks: run now, or pending (the full profile without a GPU here)."""
    from graders import runners
    from graders.grade import Thresholds

    options = runners.Options(runner=args.runner, device=args.device, partition=args.partition, gpus=args.gpus,
                              account=args.account, folder=args.slurm_folder, cpus=args.cpus)
    no_gpu = args.runner == "local" and args.device is None and runners.resolve_device(options) == "cpu"
    mode = "pending" if args.profile == "full" and no_gpu else "run"
    if mode == "run" and args.profile == "full" and args.data_dir is None and spec.jobs:
        raise ValueError("--profile full trains on the course's data: give --data-dir")
    return Thresholds(mode, args.profile, options, args.data_dir)


def grade_command(args, spec):
    import signal

    from graders import budget
    from graders.grade import grade_or_explain
    from graders.results import Result, gradescope, summary, write_json

    terminal = os.fdopen(os.dup(1), "w")  # stdout as it is now: the checks' pytest redirects fd 1 while it runs

    def finish(result):
        write_json(args.out / "results.json", gradescope(result))
        print(summary(result), file=terminal, flush=True)

    # A grader stopped with SIGTERM (a batch system, a container stopping) still cleans up its sandbox.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seconds = args.budget or budget.default_seconds(spec, args.thresholds)
    plan = watched(args.thresholds) if args.visibility == "all" else None  # public: trains nothing, as before
    with budget.Budget(seconds, lambda stage, s: finish(Result(spec, {}, error=budget.message(stage, s)))):
        result, status = grade_or_explain(args.submission, spec, visibility=args.visibility, thresholds=plan)
    finish(result)
    return status


def watched(plan):
    """The threshold plan with the jobs' progress shown on stderr while they train (graders/training.py)."""
    if plan is None or plan.mode != "run":
        return plan
    from dataclasses import replace

    from rich.console import Console

    from graders.training import TrainingView

    return replace(plan, view=TrainingView(Console(stderr=True, soft_wrap=not sys.stderr.isatty())))


def self_check(args, spec):
    """The self-check report, the same words here and in a student kit (whose selfcheck.py runs this): the public
    checks draw their examples as the kit does (its own seeds, no shrinking: graders/replay.py), so one file gets
    one report either way; a kit's own lines come after it, apart. With --train also the public threshold checks,
    on the smoke profile and the local runner: the student's own run, which says that the course's autograder
    trains with the full profile."""
    from graders import replay
    from graders.grade import grade
    from graders.results import summary

    replay.KIT = True
    trained = [c for p in spec.parts for c in p.checks if c.job and c.visibility.value == "visible"]
    plan = None
    if args.train and trained:
        from graders import runners
        from graders.grade import Thresholds

        plan = watched(Thresholds("run", "smoke", runners.Options()))
    print(summary(grade(args.submission, spec, visibility="public", thresholds=plan)))
    print("(Public checks only; the final grade also runs hidden checks.)")
    titles = "; ".join(c.title for c in trained)
    if plan is not None:
        print(f"Threshold checks ({titles}): trained here with the smoke profile, small models on generated data. "
              "This is a self-check, not a grade: the course autograder trains with the course's full profile (its "
              "data and hyper-parameters), whose verdict may differ.")
    elif trained:
        print(f"Threshold checks not run ({titles}): add --train to train them here with the smoke profile "
              "(minutes on a CPU); the course autograder trains with the course's full profile.")
    if notes := replay.notes():
        print(f"\n{KIT_HEADING}", *notes, sep="\n  ")
    return 0


KIT_HEADING = "About this self-check kit:"  # where a kit's lines begin, below the report `graders check` prints too


def new_pack(args, parser):
    """`graders new ID`: the pack in --course (default: the working directory), and what to do next."""
    from graders import scaffold

    course = args.course[0] if args.course else Path.cwd()
    if args.id in packs.specs():
        parser.error(f"assignment {args.id!r} already exists: {packs.spec_path(args.id)}")
    try:
        folder = scaffold.create(args.id, course)
    except ValueError as e:
        parser.error(str(e))
    print(f"created {folder}: a working example (a row softmax) to change into your assignment; every TODO marks a "
          f"place, docs/authoring.md explains each part.\nNext: graders verify {args.id} --course {course}")
    return 0
