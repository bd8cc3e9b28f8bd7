"""Training you can watch: what the threshold jobs report while they train (graders/runners/progress.py), shown to
course staff on `graders grade`'s and `graders batch`'s terminal.

On a terminal, a bar of the jobs done with one line per running job under it (step of steps, loss, elapsed, ETA),
drawn by rich; piped or logged, a few lines every EVERY seconds, so that a log shows the jobs moving. Display only:
nothing here reaches a grade.
"""
import threading
import time

from rich import progress as bars

EVERY = 5.0  # seconds between two reports when the output is not a terminal


def duration(seconds):
    """A span as staff read it: "42 s", "3 min 05 s"."""
    seconds = int(round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def describe(record, steps=True):
    """One job's latest record in words: its step (unless a bar shows it), loss, elapsed time and, from the pace so
    far, the time left."""
    words = [f"{record['phase']} step {record['step']}" + (f"/{record['steps']}" if "steps" in record else "")
             if steps else record["phase"]]
    if "loss" in record:
        words.append(f"loss {record['loss']:.3f}")
    if "elapsed" in record:
        words.append(f"{duration(record['elapsed'])} elapsed")
        if record.get("steps") and record["step"]:
            words.append(f"ETA {duration(record['elapsed'] / record['step'] * (record['steps'] - record['step']))}")
    return ", ".join(words)


class TrainingView:
    """`with view(total):` shows the training of `total` jobs; inside, `update(student, job, record)` is the threshold
    jobs' progress callback (a record, or None when that job ended), called from the runner's threads."""

    def __init__(self, console):
        self.console, self.total = console, 0
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.running, self.done, self.started = {}, 0, time.monotonic()
        self.bar, self.tasks, self.overall, self.ticker = None, {}, None, None

    def __call__(self, total):
        self.total, self.done, self.started = total, 0, time.monotonic()
        self.running, self.tasks = {}, {}
        self.stop.clear()
        return self

    def __enter__(self):
        if self.console.is_terminal:
            self.bar = bars.Progress(bars.TextColumn("{task.description}"), bars.BarColumn(),
                                     bars.MofNCompleteColumn(), bars.TextColumn("{task.fields[info]}"),
                                     console=self.console, refresh_per_second=2, transient=False)
            self.bar.start()
            self.overall = self.bar.add_task("training", total=self.total, info="jobs done")
        else:
            self.ticker = threading.Thread(target=self._tick, name="training view", daemon=True)
            self.ticker.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        if self.ticker:
            self.ticker.join()
        if self.bar:
            self.bar.stop()

    def update(self, student, job, record):
        key = f"{student} {job}"
        with self.lock:
            if record is None:
                self.running.pop(key, None)
                self.done += 1
            else:
                self.running[key] = record
            if self.bar:
                self._draw(key, record)

    def _draw(self, key, record):
        if record is None:
            task = self.tasks.pop(key, None)
            if task is not None:
                self.bar.remove_task(task)
            self.bar.update(self.overall, completed=self.done)
            return
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(key, total=None, info="")
        self.bar.update(self.tasks[key], total=record.get("steps"), completed=record["step"],
                        info=describe(record, steps=False))

    def lines(self):
        """What a log shows now: the jobs done so far, then one line per running job."""
        with self.lock:
            head = (f"training: {self.done}/{self.total} jobs done, {len(self.running)} reporting, "
                    f"{duration(time.monotonic() - self.started)} so far")
            return [head] + [f"  {key}: {describe(record)}" for key, record in sorted(self.running.items())]

    def _tick(self):
        while not self.stop.wait(EVERY):
            for line in self.lines():
                self.console.print(line, markup=False, highlight=False)
