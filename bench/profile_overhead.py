#!/usr/bin/env python3
"""Profiles one orchestration-overhead run (issue 11): the runner's overhead setup exactly
(bench/runner.py: a `flat` scenario of N files at zero latency, 16 coders, every validator
off, context windows raised), started under perf or strace.

    python3 bench/profile_overhead.py perf   [--tasks 1000] [--bin B] [--sim S] [--out F]
    python3 bench/profile_overhead.py strace [--tasks 1000] [--bin B] [--sim S] [--out F]

perf:   `perf record -F 499 -g` of the codehive process, then the top of
        `perf report --no-children --sort sym` (self time per symbol) and of
        `--children` (time inclusive of callees).
strace: `strace -f -c` (every syscall of every thread, counted), and the counts per task.
The text goes to --out (default: stdout) with the command, the load average and the run's
wall and CPU time (the profiler's own CPU counted with it). Builds nothing; the work folder
is removed afterwards.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402  (the same Bench, scenario and config as the benchmark)


def perf_report(data, lines, children):
    r = subprocess.run(["perf", "report", "-i", data, "--children" if children else "--no-children",
                        "--sort", "sym", "--stdio", "-g", "none"], capture_output=True, text=True)
    out = [l for l in r.stdout.splitlines() if l.strip() and not l.startswith("#")]
    return "\n".join(out[:lines])


# Shares of samples whose call chain holds a frame naming one of these: syscalls and
# libc/RocksDB/CAF frames, which perf unwinds reliably; codehive's own frames often
# are not (no frame pointers), so exports are counted by their leaf functions.
CATEGORIES = [
    ("CAF scheduler threads sleeping between polls (clock_nanosleep)", ["clock_nanosleep"]),
    ("condition variable / futex waits and wakes", ["futex_"]),
    ("run store commit (RocksDB write, fdatasync)", ["run_store::impl::commit"]),
    ("fdatasync (the store's WAL)", ["fdatasync"]),
    ("fsync (files written atomically and their folders)", ["__x64_sys_fsync"]),
    ("openat (path walks, file writes)", ["__x64_sys_openat"]),
    ("readlink + newfstatat (path canonicalisation)", ["__x64_sys_readlink", "__x64_sys_newfstatat"]),
    ("rendering exports (leaf: kv, PrettyWriter, *_json)",
     ["anonymous namespace)::kv", "PrettyWriter", "codehive::status_json", "codehive::tasks_json",
      "codehive::file_tracker_json", "codehive::code_review_json"]),
    ("HTTP to the model server (curl, poll, send/recv)", ["curl", "__poll", "sendto", "recvfrom"]),
    ("malloc/free", ["malloc", "_int_free", "cfree"]),
]


def perf_categories(data):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True,
                         text=True).stdout
    stacks, cur = [], []
    for line in out.splitlines():
        if not line.strip():
            if cur:
                stacks.append(" ".join(cur))
            cur = []
        else:
            cur.append(line.strip())
    if cur:
        stacks.append(" ".join(cur))
    n = max(len(stacks), 1)
    rows = ["%5.1f%%  %s" % (100.0 * sum(1 for s in stacks if any(k in s for k in keys)) / n, name)
            for name, keys in CATEGORIES]
    return "%d samples; a sample can count in several rows\n" % len(stacks) + "\n".join(rows)


def strace_per_task(summary, tasks):
    """strace -c's table with a calls-per-task column added."""
    out = []
    for line in summary.splitlines():
        m = re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
        if m:
            line += "   %.1f/task" % (int(m.group(1)) / tasks)
        out.append(line)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tool", choices=["perf", "strace"])
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--lines", type=int, default=60, help="perf: report lines kept")
    ap.add_argument("--bin", default=os.path.join(runner.REPO, "build", "nodes", "codehive"))
    ap.add_argument("--sim", default=os.path.join(runner.REPO, "build", "tools", "llm-sim",
                                                   "llm-sim"))
    ap.add_argument("--out", help="write the text here (default: stdout)")
    ap.add_argument("--data", help="keep perf.data (or strace's output) here, for perf report")
    a = ap.parse_args()
    a.browser = False  # what Bench.config reads
    b = runner.Bench(a)
    data = os.path.abspath(a.data) if a.data else os.path.join(b.work, "trace")
    if a.tool == "perf":
        wrap = ["perf", "record", "-F", "499", "-g", "-q", "-o", data, "--"]
    else:
        wrap = ["strace", "-f", "-c", "-o", data]
    load_before = runner.loadavg()
    try:
        scen, _ = b.scenario("flat", files=a.tasks, zero=True)
        t0 = time.time()
        res = b.run_node(scen, 16, overhead=True, label="profile", wrap=wrap)
        wall = time.time() - t0
        head = ["# %s of the overhead run, %d flat tasks (zero latency, 16 coders, checks off)"
                % (a.tool, a.tasks),
                "# python3 bench/profile_overhead.py %s --tasks %d" % (a.tool, a.tasks),
                "# %s UTC; load average %s before, %s after; wall %.2f s; CPU %.2f s "
                "(%.2f ms per task, the profiler's own included)"
                % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), load_before,
                   runner.loadavg(), wall, res["cpu_s"], 1000 * res["cpu_s"] / a.tasks),
                "# binary: %s" % os.path.abspath(a.bin)]
        if a.tool == "perf":
            body = ("## where the samples go (call chains holding these frames)\n"
                    + perf_categories(data)
                    + "\n\n## self time per symbol (perf report --no-children --sort sym)\n"
                    + perf_report(data, a.lines, False)
                    + "\n\n## inclusive (perf report --children --sort sym: children, self)\n"
                    + perf_report(data, a.lines, True))
        else:
            with open(data) as f:
                body = strace_per_task(f.read(), a.tasks)
        text = "\n".join(head) + "\n\n" + body + "\n"
        if a.out:
            with open(a.out, "w") as f:
                f.write(text)
        print(text)
    finally:
        b.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
