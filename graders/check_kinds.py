"""What a check's outcome is, as one list every stage reads: the plugin and the threshold jobs give a failed check
its kind, results.json carries the kind as a tag, and the reports, checks.csv and the batch count by it.

The values are the strings results.json has always carried in `tags` (third tag of a failed check; a passed check
carries none, so PASSED is only read back, never written as a tag). Reports that meet a tag they do not know (a
newer grader's) count the failed check as wrong output, as before the list existed.
"""
from enum import StrEnum


class Whose(StrEnum):
    """Whose move a check's outcome calls for: the class report keeps these apart."""
    NOBODY = "nobody"      # passed
    STUDENT = "student"    # a verdict on the student's code
    MACHINE = "machine"    # the machine kept the check from finishing: grade again
    STAFF = "staff"        # staff decide or fix: the grader failed, or it could not look
    LATER = "later"        # not graded yet: pending


class CheckKind(StrEnum):
    """A check's outcome: its tag value, the words reports use for it, and whose move it calls for."""
    label: str
    whose: Whose

    def __new__(cls, value, label, whose):
        member = str.__new__(cls, value)
        member._value_, member.label, member.whose = value, label, whose
        return member

    PASSED = "passed", "passed", Whose.NOBODY
    WRONG = "wrong", "wrong output", Whose.STUDENT
    MISSING = "missing", "file not handed in", Whose.STUDENT
    INTERFACE = "interface", "interface error", Whose.STUDENT
    ERROR = "error", "error while checking", Whose.STUDENT
    LIMIT = "limit", "limit hit", Whose.STUDENT
    RULE = "rule", "handout rule broken", Whose.STUDENT
    KIT = "kit", "not in the self-check kit", Whose.STAFF
    UNCHECKED = "unchecked", "could not be checked", Whose.STAFF
    GRADER = "grader", "grader failure", Whose.STAFF
    REGRADE = "regrade", "machine problem: regrade", Whose.MACHINE
    PENDING = "pending", "pending", Whose.LATER

    @property
    def failed(self):
        """Counted among failures (class report, batch): every kind but passed and pending."""
        return self.whose not in (Whose.NOBODY, Whose.LATER)

    @classmethod
    def of(cls, test):
        """The kind of a results.json test: number 0 is the grader's own failure; a failed test's kind is its third
        tag, wrong output when that is missing or unknown."""
        tags = test.get("tags", [])
        if test["number"] == "0":
            return cls.GRADER
        if test["status"] == "passed":
            return cls.PASSED
        return cls(tags[2]) if len(tags) > 2 and tags[2] in cls._value2member_map_ else cls.WRONG
