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
    from graders.grade import grade
    from graders.results import Result, gradescope, summary, write_json

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
