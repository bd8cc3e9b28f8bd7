"""How much time a sandbox child spent on one request, net of the machine's load, read by the grader from /proc.

A limit must charge the student for the student's code, whatever else the machine runs. Wall time does not: on
two cores with four other busy processes a call gets a third of a core, and a call that takes 3 s idle takes 10.
What the kernel knows does: the time each thread of the child spent *waiting in a run queue* (ready to run while
the CPUs ran something else; /proc/PID/task/*/schedstat) is the machine's; the rest of the wall time the child
either computed (its CPU time, /proc/PID/stat) or waited on its own (sleep, a lock, input), and that is the
student's. So the time charged is wall time less run-queue time, and at least the CPU time (threads that
computed side by side). An idle machine charges the wall time, a busy one the same amount.

Everything is read by the grader from outside the child: the student's code cannot report its own time.
"""
import os
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """CPU time the process has used so far, all threads; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()  # the name in parentheses may hold spaces
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime and stime, fields 14 and 15 of stat(5)


def queued_seconds(pid):
    """Time the process's threads have spent runnable but not running; None where the kernel does not say."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


class Stopwatch:
    """One request's clock, started when the grader sends it."""

    def __init__(self, pid):
        self.pid = pid
        self.wall_start = time.monotonic()
        self.cpu_start = cpu_seconds(pid) or 0.0
        self.queued_start = queued_seconds(pid)
        self.cpu, self.queued = 0.0, 0.0  # the last readings: they stand once the child is gone

    def wall(self):
        return time.monotonic() - self.wall_start

    def charged(self):
        """The request's time that was the student's: wall time less run-queue time, at least the CPU time.
        Where the kernel keeps no run-queue times, only the CPU time (a call that waits is then left to the
        wall-clock backstop, which cannot tell whose the wait was)."""
        cpu, queued = cpu_seconds(self.pid), queued_seconds(self.pid)
        if cpu is not None:
            self.cpu = max(cpu - self.cpu_start, 0.0)
        if queued is not None and self.queued_start is not None:
            self.queued = max(queued - self.queued_start, 0.0)
        elif self.queued_start is None:
            return self.cpu
        return max(self.cpu, self.wall() - self.queued)
