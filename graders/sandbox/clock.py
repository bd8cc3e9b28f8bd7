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


def threads(pid):
    """{thread id: (runnable, (CPU ns, run-queue ns))} of the process; None where the kernel does not say or it is
    gone. Runnable: the thread is running or waiting for a CPU (state R)."""
    found = {}
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                ran, queued = map(int, f.read().split()[:2])
            with open(f"/proc/{pid}/task/{task}/stat", "rb") as f:
                runnable = f.read().rpartition(b")")[2].split()[0] == b"R"
            found[task] = (runnable, (ran, queued))
    except (OSError, ValueError, IndexError):
        return None
    return found


class Stopwatch:
    """One request's clock, started when the grader sends it.

    The kernel adds a wait to a thread's run-queue time only once the thread gets a CPU again, so a thread starved
    for seconds shows that wait nowhere yet: read naively, it looks like the student's own time. So the stopwatch
    also counts, for each thread found runnable with neither new CPU time nor new run-queue time at two readings in
    a row (it did not run in between), the time between them as waiting (`pending`) until the kernel accounts it.
    Readings come every worker.POLL_SECONDS, so a wait is counted at most that short (or long, for a thread that
    woke from a sleep in between)."""

    def __init__(self, pid):
        self.pid = pid
        self.wall_start = time.monotonic()
        self.cpu_start = cpu_seconds(pid) or 0.0
        self.threads = threads(pid)
        self.queued_start = None if self.threads is None else sum(q for _, (_, q) in self.threads.values())
        self.pending = {}  # thread id: ns it has waited since the kernel last accounted its run-queue time
        self.read_at = self.wall_start
        self.cpu, self.queued = 0.0, 0.0  # the last readings: they stand once the child is gone

    def wall(self):
        return time.monotonic() - self.wall_start

    def _queued(self, now):
        """Run-queue seconds since the start, the waits the kernel has not accounted yet included; None where it
        cannot say."""
        seen = threads(self.pid)
        if seen is None:
            return None
        before, self.threads = self.threads or {}, seen
        for task, (runnable, times) in seen.items():
            waiting = runnable and task in before and before[task][1] == times
            self.pending[task] = self.pending.get(task, 0) + int((now - self.read_at) * 1e9) if waiting else 0
        self.read_at = now
        accounted = sum(q for _, (_, q) in seen.values())
        return max(accounted + sum(self.pending.get(t, 0) for t in seen) - self.queued_start, 0) / 1e9

    def charged(self):
        """The request's time that was the student's: wall time less run-queue time, at least the CPU time.
        Where the kernel keeps no run-queue times, only the CPU time (a call that waits is then left to the
        wall-clock backstop, which cannot tell whose the wait was)."""
        now = time.monotonic()
        cpu = cpu_seconds(self.pid)
        queued = self._queued(now) if self.queued_start is not None else None
        if cpu is not None:
            self.cpu = max(cpu - self.cpu_start, 0.0)
        if queued is not None:
            self.queued = queued
        elif self.queued_start is None:
            return self.cpu
        return max(self.cpu, now - self.wall_start - self.queued)
