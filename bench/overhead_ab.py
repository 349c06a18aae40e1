#!/usr/bin/env python3
"""Before/after of the orchestration overhead (issue 11): runner.py's overhead run (a `flat`
scenario of N files at zero latency, 16 coders, every validator off) with two binaries,
alternating (before, after, after, before, ...) so that both halves see the same load.

    python3 bench/overhead_ab.py --before BIN [--before-sim S] --after BIN [--after-sim S]
                                 [--tasks 1000] [--rounds 4]

Prints each run's CPU (the codehive process's user + system time) per task, its wall time
and the load average at its start, then the medians. Builds nothing, writes nothing.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402  (the same Bench, scenario and config as the benchmark)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sim = os.path.join(runner.REPO, "build", "tools", "llm-sim", "llm-sim")
    ap.add_argument("--before", required=True)
    ap.add_argument("--before-sim", default=sim)
    ap.add_argument("--after", required=True)
    ap.add_argument("--after-sim", default=sim)
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=4)
    a = ap.parse_args()
    bins = {"before": (a.before, a.before_sim), "after": (a.after, a.after_sim)}
    benches = {k: runner.Bench(argparse.Namespace(browser=False, bin=b, sim=s))
               for k, (b, s) in bins.items()}
    cpu = {k: [] for k in bins}
    wall = {k: [] for k in bins}
    try:
        for i in range(a.rounds):
            for k in (["before", "after"] if i % 2 == 0 else ["after", "before"]):
                b = benches[k]
                scen, _ = b.scenario("flat", files=a.tasks, zero=True)
                load = runner.loadavg()
                r = b.run_node(scen, 16, overhead=True, label="ab-%s-%d" % (k, i))
                cpu[k].append(1000 * r["cpu_s"] / a.tasks)
                wall[k].append(r["wall_s"])
                print("%-6s round %d: CPU %.2f ms/task, wall %.2f s, load %s"
                      % (k, i, cpu[k][-1], r["wall_s"], load), flush=True)
        for k in bins:
            print("%-6s median CPU %.2f ms/task (%s), median wall %.2f s"
                  % (k, statistics.median(cpu[k]), ", ".join("%.2f" % c for c in cpu[k]),
                     statistics.median(wall[k])))
    finally:
        for b in benches.values():
            b.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
