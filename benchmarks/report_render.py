"""Time to render the reports of a class: a student's page (with its two 8x8 attention heatmaps), the class page
and grades.csv for a class of N students, from one really graded sample's results.json.

Usage: python benchmarks/report_render.py [--students N] [--pages N] [SUBMISSION]
"""
import argparse
import statistics
import time
from pathlib import Path

from graders import packs
from graders import spec as specs
from graders.grade import grade
from graders.report import class_report, grades_csv, student_report
from graders.results import gradescope

ROOT = Path(__file__).resolve().parents[1]


def best_and_median(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("submission", nargs="?", default=packs.samples("uw-cse447-a2") / "bug-scale-sqrt-embd")
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    spec = specs.get("uw-cse447-a2")
    results = gradescope(grade(args.submission, spec))
    heatmaps = sum(len(f.get("panels", [])) for f in results["extra_data"]["figures"])
    students = {f"s{i:04d}": results for i in range(args.students)}
    links = {sid: f"students/{sid}/report.html" for sid in students}
    rows = [(f"student page ({heatmaps} heatmap panels)", lambda: student_report(results, "s0000", "../../index.html"),
             args.pages),
            (f"class page, {args.students} students", lambda: class_report(spec, students, links), 20),
            (f"grades.csv, {args.students} students", lambda: grades_csv(spec, students), 20)]
    for name, fn, runs in rows:
        best, median = best_and_median(fn, runs)
        print(f"{name}: best {best:.2f} ms, median {median:.2f} ms over {runs} runs")


if __name__ == "__main__":
    main()
