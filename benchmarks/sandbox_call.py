"""Cost of the sandbox: starting a confined child, and one call into it.

Usage: python benchmarks/sandbox_call.py [--calls N]
Prints the protections the child ran with, the start-up time (spawn, import torch, confine, load the
code) and the round-trip time of a call, for a tiny input and for the largest A2S2 input (4 x 64 x 64).
"""
import argparse
import statistics
import time
from dataclasses import asdict

import torch

from graders.extract import extract
from graders.sandbox.session import Session, StudentModule
from graders.sandbox.worker import Limits
from graders.submission import Cell, SourceFile

CODE = "def identity(x):\n    return x\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    e = extract([Cell(CODE, "A2S2.py")], ["identity"])
    modules = [{"name": "A2S2", "file": "A2S2.py", "statements": [asdict(s) for s in e.statements]}]
    started = time.perf_counter()
    session = Session(modules, e.texts, Limits()).start()
    student = StudentModule(session, "A2S2", SourceFile("A2S2.py"), e)
    student.identity(torch.zeros(1))
    startup = time.perf_counter() - started
    print(f"protections: {session.protections}")
    print(f"start-up (spawn, import torch, confine, load): {startup * 1000:.0f} ms")
    for shape in [(1,), (4, 64, 64)]:
        x = torch.randn(shape)
        times = []
        for _ in range(args.calls):
            t = time.perf_counter()
            student.identity(x)
            times.append(time.perf_counter() - t)
        print(f"call with a {tuple(shape)} tensor: median {statistics.median(times) * 1000:.2f} ms, "
              f"p99 {sorted(times)[int(len(times) * 0.99)] * 1000:.2f} ms over {args.calls} calls (target <= 50 ms)")
    session.close()


if __name__ == "__main__":
    main()
