#!/usr/bin/env python3
"""CPU time an idle cluster spends (issue 11: "the actor system's scheduler tuned for an idle
cluster"): a coordinator and --workers workers, started and joined as the runner's cluster
runs start them (bench/runner.py start_cluster; heartbeats every 500 ms), then left alone
for --seconds with no run. Prints the CPU time (user + system, /proc/PID/stat) each process
used in that window, per second.

    python3 bench/idle_cpu.py [--bin B] [--sim S] [--workers 2] [--seconds 30]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(runner.REPO, "build", "nodes", "codehive"))
    ap.add_argument("--sim", default=os.path.join(runner.REPO, "build", "tools", "llm-sim",
                                                   "llm-sim"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=30)
    a = ap.parse_args()
    a.browser = False
    b = runner.Bench(a)
    try:
        scen, _ = b.scenario("flat", files=10, zero=True)
        d = b.fresh_dir("idle")
        cfg = b.config(os.path.join(d, "codehive.json"), overhead=True)
        coord, _, _, _, _, workers = b.start_cluster(d, cfg, scen, a.workers, 4, join_s=60,
                                                     poll_s=0.1, what="idle cluster")
        procs = [("coordinator", coord)] + [("worker-%d" % (i + 1), w)
                                            for i, w in enumerate(workers)]
        load = runner.loadavg()
        before = {name: cpu_seconds(p.pid) for name, p in procs}
        t0 = time.time()
        time.sleep(a.seconds)  # the measurement window itself, not a synchronisation
        span = time.time() - t0
        used = {name: cpu_seconds(p.pid) - before[name] for name, p in procs}
        print("# idle cluster: coordinator + %d workers x 4 coders, %.1f s, load average %s "
              "before, %s after; binary %s" % (a.workers, span, load, runner.loadavg(),
                                               os.path.abspath(a.bin)))
        for name, s in used.items():
            print("%-12s %6.3f s CPU in %.1f s = %5.2f ms per second" % (name, s, span,
                                                                       1000 * s / span))
    finally:
        b.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
