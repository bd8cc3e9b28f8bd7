"""The `graders` command: list, grade, check and schema (see DESIGN.md, Contracts)."""
import argparse
import json
import sys
import traceback
from pathlib import Path

from graders import spec as specs


def main(argv=None):
    parser = argparse.ArgumentParser(prog="graders", description="Grade attention and transformer coursework.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="one assignment a line: id, then title")
    g = sub.add_parser("grade", help="grade a submission and write DIR/results.json")
    g.add_argument("submission", type=Path, help="a .py or .ipynb file, a folder or a .zip")
    g.add_argument("--assignment", required=True)
    g.add_argument("--out", required=True, type=Path)
    g.add_argument("--profile", choices=("smoke", "full"), default="smoke")
    g.add_argument("--visibility", choices=("all", "public"), default="all")
    c = sub.add_parser("check", help="a student's self-check: public checks only")
    c.add_argument("submission", type=Path)
    c.add_argument("--assignment", required=True)
    d = sub.add_parser("demo", help="grade the bundled sample submissions into reports/")
    d.add_argument("--out", type=Path, default=Path("reports"))
    s = sub.add_parser("schema", help="print the JSON Schema of specs/*.yaml")
    s.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    if args.command == "list":
        for assignment in specs.available().values():
            print(f"{assignment.id}\t{assignment.title}")
        return 0
    if args.command == "schema":
        text = json.dumps(specs.json_schema(), indent=2) + "\n"
        args.out.write_text(text) if args.out else sys.stdout.write(text)
        return 0
    if args.command == "demo":
        return demo(args.out)
    try:
        spec = specs.get(args.assignment)
    except specs.SpecError as e:
        parser.error(str(e))
    if not args.submission.exists():
        parser.error(f"submission {args.submission} does not exist")
    if args.command == "check":
        return self_check(args, spec)
    return grade_command(args, spec)


def grade_command(args, spec):
    import signal

    from graders.grade import grade
    from graders.results import Result, gradescope, summary, write_json

    # A grader stopped with SIGTERM (a batch system, a container stopping) still cleans up its sandbox.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        result = grade(args.submission, spec, visibility=args.visibility)
        status = 0
    except Exception as e:  # the contract: results.json is written even when the grader fails
        detail = "".join(traceback.format_exception_only(e)).strip()
        result = Result(spec, {}, error=f"The grader failed before finishing ({detail}); please tell course staff.")
        status = 1
    write_json(args.out / "results.json", gradescope(result))
    print(summary(result))
    return status


def self_check(args, spec):
    from graders.grade import grade
    from graders.results import summary

    print(summary(grade(args.submission, spec, visibility="public")))
    print("(Public checks only; the final grade also runs hidden checks.)")
    return 0


def demo(out):
    """Grade every sample under submissions/ and write each one's results.json under `out`."""
    from graders.grade import grade
    from graders.results import gradescope, write_json

    samples = specs.SPECS_DIR.parent / "submissions"
    for assignment in specs.available().values():
        folders = sorted(p for p in (samples / assignment.id).iterdir() if p.is_dir())
        print(f"{assignment.id}: {len(folders)} sample submissions")
        for folder in folders:
            result = grade(folder, assignment)
            write_json(out / assignment.id / folder.name / "results.json", gradescope(result))
            failed = [c.name.removeprefix("test_") for _, c in result.checks() if not result.outcomes[c.name].passed]
            print(f"  {result.score:5g}/{assignment.max_score:g}  {folder.name:40} {', '.join(failed)[:80]}")
    print(f"results written under {out}/")
    return 0
