#!/usr/bin/python3
"""The two-host harness's console follower (tests/cpcs/twohost.py,
ConsoleFollower) on a file this test writes as a guest's console would be
written, no root needed: lines arrive stamped with their arrival time, a
line split over two writes arrives once, whole; a file truncated (a QEMU
opening it without append) is read again from its start; gap() finds an
interruption the test made and the uptimes on both sides of it.

Prints "N passed, M failed"; exit 1 on any failure."""

import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from partdtest import Results, main_wrapper  # noqa: E402
from twohost import ConsoleFollower  # noqa: E402

STEP = 0.15   # seconds between the lines written here
PAUSE = 0.9   # the interruption


def line(t):
    return "partd-guest cpus=1 memtotal=1000 memfree=500 memavail=600 t=%.2f busy=0\r\n" % t


def write(path, text, mode="a"):
    with open(path, mode) as f:
        f.write(text)


def main():
    R = Results()
    d = tempfile.mkdtemp(prefix="partd-follower-")
    path = os.path.join(d, "console.log")
    try:
        with ConsoleFollower(path) as con:
            write(path, "boot noise\r\n")
            t = 1.0
            for _ in range(5):
                write(path, line(t))
                t += 1
                time.sleep(STEP)
            half = line(t)
            write(path, half[:20])  # a line in two writes
            time.sleep(STEP)
            write(path, half[20:])
            t += 1
            time.sleep(STEP)
            start = time.monotonic()
            time.sleep(PAUSE)
            write(path, line(t + 5), mode="w")  # truncated: a new QEMU's first line
            end = time.monotonic()
            t += 6
            for _ in range(2):
                time.sleep(STEP)
                write(path, line(t))
                t += 1
            got = con.wait_line(end, 5)
            time.sleep(0.2)
            stamped = list(con.stamped)
            gap = con.gap(start, end)
        ts = [ln["t"] for _, ln in stamped]
        R.check("every guest line arrives once, in order (the split one whole; none "
                "lost to the truncation)", ts == [1, 2, 3, 4, 5, 6, 12, 13, 14], ts)
        arrivals = [a for a, _ in stamped]
        R.check("arrival times rise", arrivals == sorted(arrivals), arrivals)
        R.check("wait_line returns the first line after the interruption",
                got is not None and got[1]["t"] == 12, got)
        R.check("gap() measures the interruption (%.2f s written)" % (PAUSE + STEP),
                gap is not None and PAUSE + STEP - 0.05 <= gap["gap_s"] <= PAUSE + STEP + 0.5,
                gap)
        R.check("gap() gives the uptimes on both sides and the rhythm before",
                gap is not None and (gap["t_before"], gap["t_after"]) == (6, 12) and
                0 < gap["interval_s"] < PAUSE, gap)
        R.check("gap() is None before a line arrived after the interruption",
                con.gap(start, time.monotonic()) is None)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return R.finish()


if __name__ == "__main__":
    main_wrapper(main)
