"""HTML reports and the gradebook of a graded class: a page per student (what they see), a class page (what a TA
sees) and grades.csv (what goes into the LMS). All three read only results.json dicts, so a batch can re-render
them from OUT/students/*/results.json without regrading."""
from graders.report.gradebook import checks_csv, grades_csv
from graders.report.pages import class_report, demo_index, student_report

__all__ = ["checks_csv", "class_report", "demo_index", "grades_csv", "student_report"]
