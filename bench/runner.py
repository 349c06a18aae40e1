#!/usr/bin/env python3
"""codehive benchmark runner (issue 11, item 4). Started by bench/run.sh; builds nothing.

    bench/run.sh [--quick] [--runs N] [--slow-runs N] [--max-tasks N]
                 [--overhead-sizes 100,1000,10000] [--overhead-runs N]
                 [--scenarios wide,deep,mixed] [--coders 1,2,4,8,16] [--no-demo]
                 [--no-cluster] [--no-baseline] [--no-overhead] [--micro PATH|none] [--browser]
                 [--scale [--scale-tasks 20000] [--scale-workers 8] [--scale-coders 125]
                          [--scale-runs N]]
                 [--no-write] [--bin B] [--sim S] [--keep]

What one invocation measures (every model answer SCRIPTED by llm-sim, see bench/gen_scenario.py
for the scenarios, the latency model and the ideal):

1. Scenarios wide (48 files), deep (a chain of 12), mixed (40 files, critical path 6), each:
   - one node: `codehive run --coders K` for K in --coders (default 1,2,4,8,16), fixers 2;
   - a cluster: a coordinator (0 coders) + 4 `codehive worker`s x 4 coders (1 fixer each),
     every worker with its own llm-sim (one model server per GPU), timed from
     `codehive run --coordinator` start to exit (the cluster's start-up is not timed);
   - the sequential baseline (see BASELINE below);
   each run with a fresh store, output folder and llm-sim(s); the config is the shipped
   defaults (the binary's own, as configs/codehive.json) with validators.browser false (headless Chromium would dominate
   every validation round on this machine; its cost is a separate question), or true
   with --browser (the baseline and the overhead runs keep it off). A run counts
   only when it exits 0 and its output equals the scenario's app/ (diff).
   Reported: median wall time over --runs, parallel efficiency = ideal / wall (ideal: the
   critical path of model time, unbounded coders), the ideal with K coders, speed-up over
   1 coder, ratio baseline / wall; and the phase breakdown (medians) from the run's -v log.
2. Orchestration overhead: `flat` scenarios of N = 100, 1000, 10000 (capped by
   --max-tasks) independent small files at ZERO model latency, 16 coders, every validator
   off: tasks per second (N / wall), CPU time per task of the codehive process
   (getrusage via wait4: user + system), the same for llm-sim, added latency per task
   (p50/p99 of status.json's per-task duration_ms, i.e. assign to done when the model
   answers at once), peak RSS.
3. Bytes on the wire per task between coordinator and workers (the cluster runs of 1):
   the coordinator-side TCP counters (ss -ti: bytes_acked + bytes_received) of every
   established connection on the coordinator's port, read after the run ends and before
   the processes stop; includes the join handshake and heartbeats.
4. The offline demo (`codehive run --demo`, browser check ON as shipped) with 1 and 4
   coders (--slow-runs runs each), to compare with the figures BENCHMARKS.md had before.
5. With --scale, the coordinator scale run (--scale-runs runs, default --runs; medians):
   a coordinator with 0 coders and --scale-workers (8) `codehive worker`s x --scale-coders
   (125) coders, each worker with its own llm-sim, --scale-tasks (20,000) flat tasks at zero
   latency, the overhead config;
   worker-1 is killed (SIGKILL) once --scale-kill-at (25%) of the tasks are done.
   Reported: wall, tasks/s, the coordinator's CPU per task and peak RSS, the tasks it
   queued again, the time from the kill to its "lost" line and to the last of those done.
A run that fails (non-zero exit, output differing from the scenario's app/) is listed under
"Failed runs" and left out of the medians; the others go on.

BASELINE: as close to "one coder, files one after another, review after all, no
validation" as codehive's flags allow: `--coders 1 --fixers 1 --max-rounds 0` with every
validator off (json, js, html, browser) and context.summarize_with_model false (no summary
call per file). codehive still plans first and reviews once at the end.

Results: markdown tables between the markers in BENCHMARKS.md (unless --no-write), the raw
figures in bench/results/latest.json (with --no-write: latest-no-write.json, so a quick run
never replaces the figures behind the tables), bench/speedup.png (gnuplot) when gnuplot is
installed.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- bench/run.sh: begin (generated; everything up to the end marker is replaced) -->"
END = "<!-- bench/run.sh: end -->"
TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) ")


# "Before" figures, for comparison (see the tables' notes).
OVERHEAD_BEFORE = {100: ("3.2 s", "12.9 ms"), 1000: ("17-33 s", "17.3 ms"),
                   10000: ("772 s", "70.2 ms")}
DEMO_BEFORE = {"1": "30.47 s", "4": "19.03 s"}


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


class Proc:
    """A child process whose resource usage we collect with wait4 (CPU time, peak RSS)."""

    def __init__(self, args, logfile, cwd=None):
        self.out = open(logfile, "w")
        self.p = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=cwd)
        self.pid = self.p.pid
        self.rc = None
        self.cpu_s = None
        self.rss_kib = None

    def poll(self):
        if self.rc is not None:
            return self.rc
        pid, status, ru = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        self._reaped(status, ru)
        return self.rc

    def _reaped(self, status, ru):
        self.rc = os.waitstatus_to_exitcode(status)
        self.p.returncode = self.rc
        self.cpu_s = ru.ru_utime + ru.ru_stime
        self.rss_kib = ru.ru_maxrss
        self.out.close()

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.time() + timeout
        while self.poll() is None:
            if deadline is not None and time.time() > deadline:
                return None
            time.sleep(0.02)
        return self.rc

    def stop(self):
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait(10) is None:
                os.kill(self.pid, signal.SIGKILL)
                self.wait()
        return self.rc


class Bench:
    def __init__(self, a):
        self.a = a
        self.work = tempfile.mkdtemp(prefix="codehive-bench-")
        # Private copies: build/ may be rebuilt while the benchmark runs. llm-sim sits beside
        # codehive, where `run --demo` looks for it.
        bindir = os.path.join(self.work, "bin")
        os.makedirs(bindir)
        self.bin = shutil.copy2(a.bin, os.path.join(bindir, "codehive"))
        self.sim = shutil.copy2(a.sim, os.path.join(bindir, "llm-sim"))
        self.procs = []
        self.scen_dir = os.path.join(self.work, "scenarios")
        self.seq = 0

    # ---- helpers -------------------------------------------------------------------------
    def start(self, args, logfile):
        p = Proc(args, logfile)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []

    def remove(self):
        """Stops what is still running and removes the work folder (the helper scripts)."""
        self.stop_all()
        shutil.rmtree(self.work, ignore_errors=True)

    def wait_file(self, path, secs, proc, what):
        end = time.time() + secs
        while time.time() < end:
            if os.path.exists(path) and os.path.getsize(path) > 0:
                return
            if proc.poll() is not None:
                raise RuntimeError("%s exited at start (rc %s)" % (what, proc.rc))
            time.sleep(0.05)
        raise RuntimeError("%s: no %s within %d s" % (what, path, secs))

    def start_sim(self, scen, d, name):
        portf = os.path.join(d, name + ".port")
        p = self.start([self.sim, "--scenario", os.path.join(scen, "scenario.json"),
                        "--host", "127.0.0.1", "--port", "0", "--port-file", portf,
                        "--log-level", "warn"], os.path.join(d, name + ".log"))
        self.wait_file(portf, 60, p, "llm-sim " + name)
        with open(portf) as f:
            return p, int(f.read().strip())

    def config(self, path, baseline=False, overhead=False):
        """A config holding only what the benchmark changes; everything else is the binary's
        own default (the values configs/codehive.json ships). Not a copy of
        configs/codehive.json: the work tree's copy may be ahead of the built binary."""
        c = {"prompts_dir": os.path.join(REPO, "configs", "prompts"),
             "schemas_dir": os.path.join(REPO, "configs", "schemas"),
             "validators": {"browser": bool(self.a.browser) and not (baseline or overhead)}}
        if baseline or overhead:
            for k in ("json", "js", "html", "browser"):
                c["validators"][k] = False
        if baseline:
            c["context"] = {"summarize_with_model": False}
        if overhead:
            # Prompts list every planned file (issue 11): at 1,000+ files they pass the
            # shipped windows and the run escalates or fails. The overhead runs measure the
            # orchestration, so both windows are made as large as the config allows.
            # A plan of 20,000 tasks (the scale run), streamed a token an event, is
            # larger than the shipped 16 MiB reply cap: the planner's cap is raised too.
            c["planner_model"] = {"context_tokens": 16777216, "max_reply_mib": 1024}
            c["coder_model"] = {"context_tokens": 16777216}
        with open(path, "w") as f:
            json.dump(c, f, indent=2)
        return path

    def scenario(self, kind, files=None, zero=False):
        name = kind if files is None else "%s-%d" % (kind, files)
        d = os.path.join(self.scen_dir, name)
        if not os.path.exists(os.path.join(d, "ideal.json")):
            args = [sys.executable, os.path.join(REPO, "bench", "gen_scenario.py"), kind, d]
            if files is not None:
                args += ["--files", str(files)]
            if zero:
                args.append("--zero-latency")
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(d, "ideal.json")) as f:
            return d, json.load(f)

    def fresh_dir(self, label):
        self.seq += 1
        d = os.path.join(self.work, "%03d-%s" % (self.seq, label))
        os.makedirs(d)
        return d

    def check_output(self, scen, out):
        r = subprocess.run(["diff", "-r", "-q", "--exclude=generated_files",
                            os.path.join(scen, "app"), out], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("output %s differs from %s/app:\n%s" % (out, scen, r.stdout[:2000]))

    # ---- one run ---------------------------------------------------------------------------
    def run_node(self, scen, coders, baseline=False, overhead=False, label="node", wrap=()):
        """One `codehive run`; `wrap` is a command the run is started under (a profiler,
        bench/profile_overhead.py), whose own CPU time is then counted with it."""
        d = self.fresh_dir(label)
        cfg = self.config(os.path.join(d, "codehive.json"), baseline=baseline, overhead=overhead)
        sim, port = self.start_sim(scen, d, "sim")
        with open(os.path.join(scen, "request.txt")) as f:
            request = f.read().strip()
        args = list(wrap) + [self.bin, "run", request, "--out", os.path.join(d, "out"),
                "--store", os.path.join(d, "store"), "--config", cfg,
                "--planner", "openai://127.0.0.1:%d/v1/gpt-4o-mini" % port,
                "--coder", "ollama://127.0.0.1:%d/qwen2.5-coder:7b" % port,
                "--coders", str(coders)]
        if baseline:
            args += ["--fixers", "1", "--max-rounds", "0"]
        if not overhead:
            args.append("-v")
        t0 = time.time()
        p = self.start(args, os.path.join(d, "run.log"))
        rc = p.wait()
        wall = time.time() - t0
        sim.stop()
        self.stop_all()
        if rc != 0:
            raise RuntimeError("codehive run exited %d; log %s" % (rc, os.path.join(d, "run.log")))
        self.check_output(scen, os.path.join(d, "out"))
        res = {"wall_s": wall, "cpu_s": p.cpu_s, "rss_kib": p.rss_kib, "sim_cpu_s": sim.cpu_s,
               "dir": d}
        res.update(self.phases(os.path.join(d, "run.log"), wall))
        res.update(self.task_latency(os.path.join(d, "out", "generated_files", "status.json")))
        return res

    def start_cluster(self, d, cfg, scen, workers, per_worker, join_s, poll_s, what):
        """A coordinator (0 coders; its own llm-sim for the large-model roles) and `workers`
        worker processes x `per_worker` coders, each with its own llm-sim, sharing a fresh
        token; waits up to `join_s` for every worker's "joined" line in the coordinator's log.
        Returns (coordinator, its log, token file, port, address, worker processes)."""
        token = os.path.join(d, "token")
        fd = os.open(token, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, os.urandom(32).hex().encode())
        os.close(fd)
        common = ["--token-file", token, "--config", cfg, "--heartbeat-ms", "500"]
        _, port = self.start_sim(scen, d, "sim-coordinator")
        portf = os.path.join(d, "coordinator.port")
        coord_log = os.path.join(d, "coordinator.log")
        coord = self.start([self.bin, "coordinator", "--listen", "127.0.0.1:0", "--store",
                            os.path.join(d, "store"), "--port-file", portf,
                            "--planner", "openai://127.0.0.1:%d/v1/gpt-4o-mini" % port,
                            "--coder", "ollama://127.0.0.1:%d/qwen2.5-coder:7b" % port,
                            "--coders", "0", "--fixers", "0"] + common, coord_log)
        self.wait_file(portf, 60, coord, "coordinator")
        with open(portf) as f:
            cport = int(f.read().strip())
        addr = "127.0.0.1:%d" % cport
        wprocs = []
        for i in range(1, workers + 1):
            _, wport = self.start_sim(scen, d, "sim-worker-%d" % i)
            wprocs.append(self.start([self.bin, "worker", "--join", addr, "--name", "worker-%d" % i,
                                      "--coders", str(per_worker), "--fixers", "1",
                                      "--coder", "ollama://127.0.0.1:%d/qwen2.5-coder:7b" % wport]
                                     + common, os.path.join(d, "worker-%d.log" % i)))
        end = time.time() + join_s
        pat = re.compile(r"worker worker-\d+ joined")
        while time.time() < end:
            with open(coord_log, errors="replace") as f:
                if len(pat.findall(f.read())) >= workers:
                    break
            time.sleep(poll_s)
        else:
            raise RuntimeError("%s: the workers did not all join within %d s; logs in %s"
                               % (what, join_s, d))
        return coord, coord_log, token, cport, addr, wprocs

    def run_cluster(self, scen, workers=4, per_worker=4):
        d = self.fresh_dir("cluster")
        cfg = self.config(os.path.join(d, "codehive.json"))
        coord, coord_log, token, cport, addr, wprocs = self.start_cluster(
            d, cfg, scen, workers, per_worker, join_s=60, poll_s=0.1, what="cluster")
        with open(os.path.join(scen, "request.txt")) as f:
            request = f.read().strip()
        t0 = time.time()
        client = self.start([self.bin, "run", "--coordinator", addr, "--token-file", token,
                             request, "--out", os.path.join(d, "out")],
                            os.path.join(d, "run.log"))
        rc = client.wait()
        wall = time.time() - t0
        wire = self.wire_bytes(cport)
        self.stop_all()
        if rc != 0:
            raise RuntimeError("cluster run exited %d; logs in %s" % (rc, d))
        self.check_output(scen, os.path.join(d, "out"))
        res = {"wall_s": wall, "cpu_s": coord.cpu_s, "rss_kib": coord.rss_kib, "dir": d,
               "wire_bytes": wire, "workers_cpu_s": sum(w.cpu_s or 0 for w in wprocs)}
        res.update(self.phases(coord_log, wall))
        res.update(self.task_latency(os.path.join(d, "out", "generated_files", "status.json")))
        return res

    def run_scale(self, scen, workers, per_worker, kill_at):
        """The coordinator scale run: a coordinator (0 coders) and `workers` worker processes
        x `per_worker` coders, each worker with its own llm-sim, zero latency, validators off
        (the overhead config). When `kill_at` of the tasks are done, worker-1 is killed
        (SIGKILL): the coordinator's "worker-1 lost" line gives the time to detect it, the
        "done" lines of the tasks it queued again the time to re-run its work."""
        d = self.fresh_dir("scale")
        cfg = self.config(os.path.join(d, "codehive.json"), overhead=True)
        coord, coord_log, token, cport, addr, wprocs = self.start_cluster(
            d, cfg, scen, workers, per_worker, join_s=120, poll_s=0.2, what="scale")
        with open(os.path.join(scen, "request.txt")) as f:
            request = f.read().strip()
        with open(os.path.join(scen, "ideal.json")) as f:
            n_tasks = json.load(f)["files"]
        t0 = time.time()
        # -v: the client's log has the time the result came and the copy was complete.
        client = self.start([self.bin, "run", "--coordinator", addr, "--token-file", token,
                             "--config", cfg, "-v", request, "--out", os.path.join(d, "out")],
                            os.path.join(d, "run.log"))
        killed_at = None
        done_re = re.compile(r" done: \S+ v\d+ by ")
        done = 0
        pos = 0
        while client.poll() is None:
            if kill_at and killed_at is None:
                with open(coord_log, errors="replace") as f:   # read on from where we were
                    f.seek(pos)
                    chunk = f.read()
                    cut = chunk.rfind("\n") + 1
                    pos += len(chunk[:cut].encode("utf-8", "replace"))
                    done += len(done_re.findall(chunk[:cut]))
                if done >= kill_at * n_tasks:
                    wprocs[0].p.kill()
                    killed_at = time.time()
                    log("scale: killed worker-1 after %d tasks done" % done)
            time.sleep(0.2)
        wall = time.time() - t0
        self.stop_all()
        if client.rc != 0:
            raise RuntimeError("scale run exited %d; logs in %s" % (client.rc, d))
        self.check_output(scen, os.path.join(d, "out"))
        res = {"wall_s": wall, "tasks": n_tasks, "cpu_s": coord.cpu_s, "rss_kib": coord.rss_kib,
               "workers_cpu_s": sum(w.cpu_s or 0 for w in wprocs[1:]), "dir": d,
               "workers": workers, "per_worker": per_worker}
        if killed_at is not None:
            res.update(self.loss_times(coord_log, killed_at))
        res["end"] = self.end_times(coord_log, os.path.join(d, "run.log"), t0, t0 + wall)
        return res

    @staticmethod
    def end_times(coord_log, client_log, t_start, t_exit):
        """Where the wall time outside the run's phases goes: seconds between the steps of the
        start and the end of a `run --coordinator`, from the coordinator's and the client's
        log lines (both on this machine's clock) and the client's start and exit."""
        def t(line):
            m = TS.match(line)
            return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp() if m else None
        marks = {"client start": t_start}
        steps = [(coord_log, "run started", re.compile(r" started \((new|continuing)\)")),
                 (coord_log, "coding end", re.compile(r"round 1: validating")),
                 (coord_log, "run finished", re.compile(r"run=\S+ finished: ")),
                 (coord_log, "summaries waited for", re.compile(r"tracker: \d+ summaries still on their way")),
                 (coord_log, "last summary", re.compile(r"tracker: the last summary came")),
                 (coord_log, "result sent (ended)", re.compile(r"run=\S+ ended: ")),
                 (client_log, "client has the result", re.compile(r"result received: ")),
                 (client_log, "client copy complete", re.compile(r"run=\S+ copy (complete|incomplete): "))]
        for path, name, pat in steps:
            with open(path, errors="replace") as f:
                for line in f:
                    if pat.search(line):
                        marks[name] = t(line)
                        break
        marks["client exit"] = t_exit
        return {k: v - t_start for k, v in marks.items() if v is not None}

    @staticmethod
    def loss_times(coord_log, killed_at):
        """Seconds from the kill to the coordinator's "worker-1 lost" line, and to the last
        "done" line of a task it queued again because of that loss."""
        def t(line):
            m = TS.match(line)
            # The log's local time, as phases() reads it.
            return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp() if m else None
        lost = None
        requeued, done = set(), {}
        with open(coord_log, errors="replace") as f:
            for line in f:
                if lost is None and "worker worker-1 lost" in line:
                    lost = t(line)
                elif (m := re.search(r"task=(\S+) \S+ queued again \(worker worker-1 lost\)", line)):
                    requeued.add(m.group(1))
                elif (m := re.search(r"task=(\S+) done: ", line)):
                    done[m.group(1)] = t(line)
        out = {"requeued": len(requeued)}
        if lost:
            out["detect_s"] = lost - killed_at
        ends = [done[x] for x in requeued if x in done and done[x]]
        if ends and len(ends) == len(requeued):
            out["rerun_s"] = max(ends) - killed_at
        return out

    def run_demo(self, coders):
        d = self.fresh_dir("demo")
        cfg = os.path.join(d, "codehive.json")   # the shipped defaults, browser check on
        with open(cfg, "w") as f:
            json.dump({"prompts_dir": os.path.join(REPO, "configs", "prompts"),
                       "schemas_dir": os.path.join(REPO, "configs", "schemas")}, f)
        t0 = time.time()
        p = self.start([self.bin, "run", "--demo", "--coders", str(coders), "--out",
                        os.path.join(d, "out"), "--store", os.path.join(d, "store"),
                        "--config", cfg, "-v"],
                       os.path.join(d, "run.log"))
        rc = p.wait()
        wall = time.time() - t0
        self.stop_all()
        if rc != 0:
            raise RuntimeError("demo exited %d; log %s" % (rc, os.path.join(d, "run.log")))
        res = {"wall_s": wall, "cpu_s": p.cpu_s, "dir": d}
        res.update(self.phases(os.path.join(d, "run.log"), wall))
        return res

    @staticmethod
    def wire_bytes(port):
        """Coordinator-side TCP counters of the connections on its port (loopback)."""
        try:
            out = subprocess.run(["ss", "-tinH", "state", "established",
                                  "( sport = :%d )" % port], capture_output=True, text=True,
                                 timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        sent = sum(int(x) for x in re.findall(r"bytes_acked:(\d+)", out))
        recv = sum(int(x) for x in re.findall(r"bytes_received:(\d+)", out))
        conns = len(re.findall(r"bytes_received:", out))
        return {"sent": sent, "received": recv, "connections": conns}

    @staticmethod
    def task_latency(status_path):
        try:
            with open(status_path) as f:
                s = json.load(f)
        except (OSError, ValueError):
            return {}
        ds = sorted(t["duration_ms"] for t in s.get("tasks", []) if "duration_ms" in t)
        if not ds:
            return {}
        p99 = ds[min(len(ds) - 1, int(round(0.99 * (len(ds) - 1))))]
        return {"task_ms_p50": statistics.median(ds), "task_ms_p99": p99, "tasks": len(ds),
                "usage": s.get("usage", {})}

    @staticmethod
    def phases(logfile, wall):
        """Phase times from the event log (timestamps of the planner's info lines)."""
        def t(line):
            m = TS.match(line)
            if not m:
                return None
            return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
        first = plan_start = plan_end = finished = None
        rounds = {}
        starts, dones = [], {}
        with open(logfile, errors="replace") as f:
            for line in f:
                ts = t(line)
                if ts is None:
                    continue
                if first is None:
                    first = ts
                if "for a plan" in line and plan_start is None:
                    plan_start = ts
                elif "plan accepted" in line:
                    plan_end = ts
                elif (m := re.search(r"round (\d+): validating", line)):
                    rounds.setdefault(int(m.group(1)), {})["start"] = ts
                elif "validator: " in line and " findings" in line and rounds:
                    rounds[max(rounds)]["validated"] = ts
                elif (m := re.search(r"reviewer: round (\d+): \d+ issues", line)):
                    rounds.setdefault(int(m.group(1)), {})["reviewed"] = ts
                elif " finished: " in line:
                    finished = ts
                elif (m := re.search(r"task=(\S+) start: \S+ \S+ on (\S+) \(attempt", line)):
                    starts.append((ts, m.group(1), m.group(2)))
                elif (m := re.search(r"task=(\S+) done: \S+ v\d+ by (\S+) in", line)):
                    dones[m.group(1)] = (ts, m.group(2))
        ph = {"plan": 0.0, "coding": 0.0, "validation": 0.0, "review": 0.0, "fix": 0.0}
        if plan_start and plan_end:
            ph["plan"] = plan_end - plan_start
        keys = sorted(rounds)
        if plan_end and keys and "start" in rounds[keys[0]]:
            ph["coding"] = rounds[keys[0]]["start"] - plan_end
        for i, k in enumerate(keys):
            r = rounds[k]
            v_end = r.get("validated", r.get("start"))
            if "start" in r and v_end:
                ph["validation"] += v_end - r["start"]
            if v_end and "reviewed" in r:
                ph["review"] += r["reviewed"] - v_end
            nxt = rounds.get(keys[i + 1], {}).get("start") if i + 1 < len(keys) else finished
            if "reviewed" in r and nxt:
                ph["fix"] += max(0.0, nxt - r["reviewed"])
        ph["other"] = max(0.0, wall - sum(ph.values()))
        return {"phases": ph, "gaps": Bench.gaps(logfile, plan_end, starts, dones)}

    @staticmethod
    def gaps(logfile, plan_end, starts, dones):
        """Dispatch gaps: for each task start, the time since BOTH the task was ready (plan in
        and every dependency done) AND the coder that took it was free (its last task done,
        or the plan in). Dependencies from the run's tasks.json export."""
        tasks_json = os.path.join(os.path.dirname(logfile), "out", "generated_files", "tasks.json")
        try:
            with open(tasks_json) as f:
                deps = {t["id"]: t.get("depends_on", []) for t in json.load(f)}
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if plan_end is None or not starts:
            return None
        last_task = {}   # coder -> the task it ran before (its done line may log after the start)
        out = []
        for ts, tid, coder in starts:
            ready = max([plan_end] + [dones[d][0] for d in deps.get(tid, []) if d in dones])
            prev = last_task.get(coder)
            coder_free = dones[prev][0] if prev in dones else plan_end
            last_task[coder] = tid
            out.append(max(0.0, ts - max(ready, coder_free)))
        return {"max_ms": 1000 * max(out), "sum_ms": 1000 * sum(out), "starts": len(out)}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def human_time(v, unit):
    ns = v * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}.get(unit, 1)
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f µs" % (ns / 1e3)
    return "%.0f ns" % ns


def fmt_ms(x):
    return "n/a" if x is None else "%.0f ms" % x


def fmt_s(x):
    return "n/a" if x is None else "%.2f s" % x


def fmt_count(x):
    """A median count: whole unless two runs' middle values differ ("124.5")."""
    return "" if x is None else ("%d" % x if x == int(x) else "%.1f" % x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="wide scenario only, coders 1,16, cluster, baseline, overhead N=100, no demo")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slow-runs", type=int, default=None,
                    help="runs for the slow setups: the baseline and every setup whose ideal "
                         "is 20 s or more (default: --runs)")
    ap.add_argument("--max-tasks", type=int, default=10000)
    ap.add_argument("--overhead-sizes", default="100,1000,10000",
                    help="task counts of the overhead runs (each capped by --max-tasks)")
    ap.add_argument("--scenarios", default="wide,deep,mixed")
    ap.add_argument("--coders", default="1,2,4,8,16")
    ap.add_argument("--overhead-runs", type=int, default=None,
                    help="runs per overhead size (default: --runs)")
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--browser", action="store_true",
                    help="the scenario runs with validators.browser on (not the baseline or "
                         "the overhead runs); default off")
    ap.add_argument("--scale", action="store_true",
                    help="also the coordinator scale run: --scale-workers worker processes x "
                         "--scale-coders coders, --scale-tasks flat tasks at zero latency, "
                         "worker-1 killed when --scale-kill-at of the tasks are done "
                         "(--scale-runs runs, median)")
    ap.add_argument("--scale-runs", type=int, default=None,
                    help="runs of the scale setup (default: --runs); about 3-7 minutes each "
                         "on 2 cores")
    ap.add_argument("--scale-tasks", type=int, default=20000)
    ap.add_argument("--scale-workers", type=int, default=8)
    ap.add_argument("--scale-coders", type=int, default=125)
    ap.add_argument("--scale-kill-at", type=float, default=0.25,
                    help="fraction of the tasks done when worker-1 is killed (0: no kill)")
    ap.add_argument("--no-cluster", action="store_true")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-overhead", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print the tables, leave BENCHMARKS.md and bench/results/latest.json "
                         "(the raw figures go to bench/results/latest-no-write.json)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs, outputs)")
    ap.add_argument("--micro", default=None,
                    help="micro_bench executable (default build/bench/micro_bench when built); "
                         "store_bench is taken from the same folder; 'none' skips them")
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "nodes", "codehive"))
    ap.add_argument("--sim", default=os.path.join(REPO, "build", "tools", "llm-sim", "llm-sim"))
    ap.add_argument("--from-json", default=None,
                    help="run nothing: render (and write) the tables of a results file")
    a = ap.parse_args()
    coders = [int(x) for x in a.coders.split(",") if x]
    if a.from_json:
        with open(a.from_json) as f:
            results = json.load(f)
        write_tables(a, results, coders)
        return 0
    if a.quick:
        a.scenarios, a.coders, a.no_demo = "wide", "1,16", True
        a.max_tasks = min(a.max_tasks, 100)
    for exe in (a.bin, a.sim):
        if not os.access(exe, os.X_OK):
            sys.exit("bench: %s is not built (bench/run.sh builds nothing; build it first)" % exe)
    coders = [int(x) for x in a.coders.split(",") if x]
    scenarios = [x for x in a.scenarios.split(",") if x]
    command = "bench/run.sh " + " ".join(sys.argv[1:])
    b = Bench(a)
    meta = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            "command": command.strip(), "nproc": os.cpu_count(), "cpu": cpu_model(),
            "load_before": loadavg(), "runs": a.runs, "slow_runs": a.slow_runs,
            "browser": a.browser,
            "binary_mtime": datetime.datetime.utcfromtimestamp(os.path.getmtime(a.bin)).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip()}
    log("work folder %s; load %s" % (b.work, meta["load_before"]))
    results = {"meta": meta, "scenarios": {}, "overhead": [], "demo": {}, "micro": [],
               "scale": [], "failures": []}
    t_start = time.time()
    try:
        # Short parts first, so an interrupted run still has them (see --from-json).
        if not a.no_overhead:
            for n in [int(x) for x in a.overhead_sizes.split(",") if x]:
                if n > a.max_tasks:
                    continue
                scen, ideal = b.scenario("flat", files=n, zero=True)
                runs = []
                for r in range(a.overhead_runs or a.runs):
                    res = attempt(b, results, lambda: b.run_node(scen, 16, overhead=True,
                                                                 label="overhead-%d" % n))
                    if res is None:
                        continue
                    log("overhead N=%d run %d: %.2f s, CPU %.2f s" % (n, r + 1, res["wall_s"], res["cpu_s"]))
                    runs.append(res)
                if runs:
                    results["overhead"].append({"tasks": n, "runs": runs})
        if a.scale:
            scen, ideal = b.scenario("flat", files=a.scale_tasks, zero=True)
            for r in range(a.scale_runs or a.runs):
                res = attempt(b, results, lambda: b.run_scale(scen, a.scale_workers, a.scale_coders,
                                                              a.scale_kill_at))
                if res is not None:
                    log("scale run %d: %d tasks in %.1f s" % (r + 1, res["tasks"], res["wall_s"]))
                    log("scale: seconds after the client's start: " + ", ".join(
                        "%s %.1f" % (k, v) for k, v in sorted(res["end"].items(), key=lambda kv: kv[1])))
                    results["scale"].append(res)
        micro = a.micro or os.path.join(REPO, "build", "bench", "micro_bench")
        if micro != "none" and os.access(micro, os.X_OK):
            results["micro"] = run_micro(micro)
        elif micro != "none":
            log("no %s: microbenchmarks skipped" % micro)
        if not a.no_demo:
            for k in (1, 4):
                runs = []
                for r in range(a.slow_runs or a.runs):
                    res = attempt(b, results, lambda: b.run_demo(k))
                    if res is None:
                        continue
                    log("demo %d coder(s) run %d: %.2f s" % (k, r + 1, res["wall_s"]))
                    runs.append(res)
                if runs:
                    results["demo"][str(k)] = runs
        for kind in scenarios:
            scen, ideal = b.scenario(kind)
            sr = {"ideal": ideal, "setups": {}}
            results["scenarios"][kind] = sr
            setups = [("%d" % k, "1 node, %d coder%s" % (k, "" if k == 1 else "s")) for k in coders]
            if not a.no_cluster:
                setups.append(("cluster", "coordinator + 4 workers x 4 coders"))
            if not a.no_baseline:
                setups.append(("baseline", "sequential baseline"))
            for key, label in setups:
                runs = []
                k = 16 if key == "cluster" else (1 if key == "baseline" else int(key))
                slow = key == "baseline" or ideal["ideal_s_by_coders"].get(str(k), 0) >= 20
                n_runs = a.slow_runs if (slow and a.slow_runs is not None) else a.runs
                for r in range(n_runs):
                    if key == "cluster":
                        res = attempt(b, results, lambda: b.run_cluster(scen))
                    elif key == "baseline":
                        res = attempt(b, results, lambda: b.run_node(scen, 1, baseline=True,
                                                                     label="baseline"))
                    else:
                        res = attempt(b, results, lambda: b.run_node(scen, int(key)))
                    if res is None:
                        continue
                    log("%s %s run %d: %.2f s" % (kind, label, r + 1, res["wall_s"]))
                    runs.append(res)
                if runs:
                    sr["setups"][key] = {"label": label, "runs": runs}
    except KeyboardInterrupt:
        # Ctrl-C (SIGINT) ends the measurement early; what was measured is still written.
        log("interrupted: writing what was measured")
        results["failures"].append("interrupted by SIGINT; the setups not listed were not run")
    finally:
        b.stop_all()
        meta["load_after"] = loadavg()
        meta["duration_s"] = round(time.time() - t_start)
        # latest.json goes with the tables in BENCHMARKS.md: a --no-write run
        # (an A/B, a quick check) leaves it and writes its figures beside it.
        os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
        name = "latest-no-write.json" if a.no_write else "latest.json"
        with open(os.path.join(REPO, "bench", "results", name), "w") as f:
            json.dump(results, f, indent=1, default=str)
        log("raw figures in bench/results/%s" % name)
        if a.keep:
            log("kept %s" % b.work)
        else:
            shutil.rmtree(b.work, ignore_errors=True)

    write_tables(a, results, coders)
    return 0


def write_tables(a, results, coders):
    plot = make_plot(results, coders)
    md = render(results, coders, plot)
    print(md)
    if not a.no_write:
        path = os.path.join(REPO, "BENCHMARKS.md")
        with open(path) as f:
            text = f.read()
        block = BEGIN + "\n" + md + END
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        with open(path, "w") as f:
            f.write(text)
        log("wrote BENCHMARKS.md")


def attempt(b, results, fn):
    """One run; a failed run (non-zero exit, wrong output, no start) is recorded, not fatal."""
    try:
        return fn()
    except RuntimeError as e:
        log("FAILED: %s" % e)
        results["failures"].append(str(e))
        b.stop_all()
        return None


def run_micro(micro):
    """Google Benchmark JSON of micro_bench and store_bench (same folder), 0.5 s per case."""
    out = []
    for exe in (micro, os.path.join(os.path.dirname(micro), "store_bench")):
        if not os.access(exe, os.X_OK):
            continue
        log("running %s" % exe)
        r = subprocess.run([exe, "--benchmark_format=json", "--benchmark_min_time=0.5"],
                           capture_output=True, text=True)
        try:
            for bm in json.loads(r.stdout)["benchmarks"]:
                out.append({"exe": os.path.basename(exe), "name": bm["name"],
                            "real_time": bm["real_time"], "cpu_time": bm["cpu_time"],
                            "unit": bm.get("time_unit", "ns"),
                            "bytes": bm.get("bytes"), "error": bm.get("error_message")})
        except (ValueError, KeyError):
            log("%s gave no JSON (rc %d): %s" % (exe, r.returncode, r.stderr[-500:]))
    return out


def make_plot(results, coders):
    """bench/speedup.png: speed-up over 1 coder against coders, measured and ideal."""
    if not shutil.which("gnuplot") or 1 not in coders or len(coders) < 2:
        return None
    d = tempfile.mkdtemp(prefix="codehive-plot-")
    plots = []
    styles = {"wide": 1, "deep": 2, "mixed": 3}
    for kind, sr in results["scenarios"].items():
        w1 = med([r["wall_s"] for r in sr["setups"].get("1", {}).get("runs", [])])
        if not w1:
            continue
        lc = styles.get(kind, 4)
        rows = []
        for k in coders:
            w = med([r["wall_s"] for r in sr["setups"].get(str(k), {}).get("runs", [])])
            ik = sr["ideal"]["ideal_s_by_coders"].get(str(k))
            i1 = sr["ideal"]["ideal_s_by_coders"]["1"]
            if w and ik:
                rows.append("%d %.4f %.4f" % (k, w1 / w, i1 / ik))
        data = os.path.join(d, kind + ".dat")
        with open(data, "w") as f:
            f.write("\n".join(rows) + "\n")
        plots.append("'%s' using 1:2 with linespoints lt %d pt 7 title '%s, one node'"
                     % (data, lc, kind))
        plots.append("'%s' using 1:3 with lines lt %d dashtype 2 title '%s, ideal'"
                     % (data, lc, kind))
        wc = med([r["wall_s"] for r in sr["setups"].get("cluster", {}).get("runs", [])])
        if wc:
            cdat = os.path.join(d, kind + "-cluster.dat")
            with open(cdat, "w") as f:
                f.write("16 %.4f\n" % (w1 / wc))
            plots.append("'%s' using 1:2 with points lt %d pt 4 ps 2 title '%s, 4 workers x 4'"
                         % (cdat, lc, kind))
    if not plots:
        return None
    out = os.path.join(REPO, "bench", "speedup.png")
    script = ("set terminal pngcairo size 800,560\nset output '%s'\n"
              "set xlabel 'coders'\nset ylabel 'speed-up over 1 coder (median wall time)'\n"
              "set key top left\nset grid\nset xrange [0:17]\nset yrange [0:17]\n"
              "set xtics (1,2,4,8,16)\n"
              "plot x with lines lc 'gray' title 'linear', %s\n" % (out, ", ".join(plots)))
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    shutil.rmtree(d, ignore_errors=True)
    return "bench/speedup.png" if r.returncode == 0 else None


def render(results, coders, plot):
    m = results["meta"]
    L = []
    L.append("## Benchmark runner: %s\n" % m["date"])
    L.append("```sh\n%s\n```\n" % m["command"])
    L.append("Machine: %s CPUs (%s), commit %s (binary built %s); load average (1, 5, 15 min) %s at the start, "
             "%s at the end; %d s in all. Figures are medians of %d run(s) (%s for the slow "
             "setups: the baseline and those whose ideal is 20 s or more; the runs column "
             "says). Answers are SCRIPTED by llm-sim (bench/gen_scenario.py): large "
             "model 200 ms to first token + 800 tokens/s, small model 150 ms + 400 tokens/s "
             "(the issue's 2 s + 80 tokens/s and 1.5 s + 40 tokens/s, times 0.1). Browser check "
             "%s. See bench/runner.py for exactly what each figure is.\n"
             % (m["nproc"], m["cpu"], m["commit"], m.get("binary_mtime", "?"), m["load_before"], m.get("load_after", "?"),
                m.get("duration_s", 0), m["runs"], m.get("slow_runs") or m["runs"],
                "on in the scenarios (--browser)" if m.get("browser") else "off"))
    if m.get("extra"):
        L.append("Also: %s.\n" % m["extra"])
    if results["scenarios"]:
        L.append("### Ideal (critical path of model time, from the scenario)\n")
        L.append("| scenario | files | critical path (files) | plan | coding (unbounded) "
                 "| review | ideal | ideal, 1 coder | ideal, 16 coders |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for kind, sr in results["scenarios"].items():
            i = sr["ideal"]
            L.append("| %s | %d | %d | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s |"
                     % (kind, i["files"], i["critical_path_files"], i["plan_s"], i["coding_s"],
                        i["review_s"], i["ideal_s"], i["ideal_s_by_coders"]["1"],
                        i["ideal_s_by_coders"]["16"]))
        L.append("")
        L.append("### Wall time\n")
        L.append("Efficiency = ideal (unbounded coders) / wall; \"of ideal(K)\" = the ideal with "
                 "that many coders / wall; speed-up against 1 coder on one node; \"x baseline\" = "
                 "baseline wall / wall.\n")
        L.append("codehive CPU: user + system time of the codehive process (the coordinator's "
                 "for the cluster, whose 4 workers' CPU is added after a +), llm-sim not "
                 "counted.\n")
        L.append("| scenario | setup | wall (median) | min | max | runs | efficiency "
                 "| of ideal(K) | speed-up | x baseline | codehive CPU |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for kind, sr in results["scenarios"].items():
            i = sr["ideal"]
            st = sr["setups"]
            w1 = med([r["wall_s"] for r in st.get("1", {}).get("runs", [])])
            wb = med([r["wall_s"] for r in st.get("baseline", {}).get("runs", [])])
            for key, s in st.items():
                ws = [r["wall_s"] for r in s["runs"]]
                w = med(ws)
                k = 16 if key == "cluster" else (1 if key == "baseline" else int(key))
                ik = i["ideal_s_by_coders"].get(str(k))
                wcpu = med([r.get("workers_cpu_s") for r in s["runs"]])
                L.append("| %s | %s | %s | %.2f | %.2f | %d | %.2f | %s | %s | %s | %.2f s%s |" % (
                    kind, s["label"], fmt_s(w), min(ws), max(ws), len(ws), i["ideal_s"] / w,
                    "%.2f" % (ik / w) if ik else "",
                    "%.2fx" % (w1 / w) if w1 else "", "%.2fx" % (wb / w) if wb else "",
                    med([r["cpu_s"] for r in s["runs"]]) or 0,
                    " + %.2f s" % wcpu if wcpu else ""))
        L.append("")
        L.append("### Phase breakdown (medians, seconds)\n")
        L.append("From the run's event log (coordinator's for the cluster): plan = asking for "
                 "the plan to plan accepted; coding = plan accepted to the first validation "
                 "round; validation, review per round; fix = a review's end to the next round "
                 "(fixes + their summaries); other = wall minus these (process start, preflight, "
                 "exports, exit). Task p50/p99: status.json duration_ms (assign to done, the "
                 "coder's model call included). Dispatch gap: for each task start, the time "
                 "since the task was ready (plan in, dependencies done) and the coder that took "
                 "it was free, from the log's start/done lines (log resolution 1 ms; the "
                 "coordinator's clock for the cluster).\n")
        L.append("| scenario | setup | plan | coding | validation | review | fix | other "
                 "| task p50 | task p99 | dispatch gap max | gaps summed |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for kind, sr in results["scenarios"].items():
            for key, s in sr["setups"].items():
                ph = {p: med([r["phases"][p] for r in s["runs"]])
                      for p in ("plan", "coding", "validation", "review", "fix", "other")}
                gm = med([(r.get("gaps") or {}).get("max_ms") for r in s["runs"]])
                gs = med([(r.get("gaps") or {}).get("sum_ms") for r in s["runs"]])
                L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                    kind, s["label"], " | ".join("%.2f" % ph[p] for p in ph),
                    fmt_ms(med([r.get("task_ms_p50") for r in s["runs"]])),
                    fmt_ms(med([r.get("task_ms_p99") for r in s["runs"]])),
                    fmt_ms(gm), fmt_ms(gs)))
        L.append("")
        wires = []
        for kind, sr in results["scenarios"].items():
            for r in sr["setups"].get("cluster", {}).get("runs", []):
                wb = r.get("wire_bytes")
                if wb and r.get("tasks"):
                    wires.append((kind, wb, r["tasks"]))
        if wires:
            L.append("### Bytes on the wire, coordinator <-> 4 workers\n")
            L.append("Coordinator-side TCP counters (`ss -ti`: bytes_acked, bytes_received) of "
                     "its connections, after the run, before the cluster stops: the join and "
                     "heartbeats (500 ms) included.\n")
            L.append("| scenario | connections | sent | received | per task (sent + received) |")
            L.append("|---|---|---|---|---|")
            for kind, wb, n in wires:
                L.append("| %s | %d | %d B | %d B | %d B |" % (
                    kind, wb["connections"], wb["sent"], wb["received"],
                    (wb["sent"] + wb["received"]) // n))
            L.append("")
    if results["overhead"]:
        L.append("### Orchestration overhead (zero model latency, 16 coders, validators off)\n")
        L.append("`flat` scenarios: N independent one-function JS files (N-1 modules + "
                 "index.html); llm-sim answers at once. CPU = user + system time of the "
                 "process (wait4); task p50/p99 = status.json duration_ms per task (assign to "
                 "done). Context windows raised to 16M tokens (see bench/runner.py).\n")
        L.append("Before: the figures issue 11 reports (its own scenarios, same settings: zero "
                 "latency, 16 coders, checks off), measured before exports were rendered once "
                 "per batch of events.\n")
        L.append("| tasks | runs | wall | tasks/s | codehive CPU/task | llm-sim CPU/task "
                 "| task p50 | task p99 | peak RSS | before: wall | before: CPU/task |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for o in results["overhead"]:
            rs, n = o["runs"], o["tasks"]
            w = med([r["wall_s"] for r in rs])
            before = OVERHEAD_BEFORE.get(o["tasks"], ("", ""))
            L.append("| %d | %d | %.2f s | %.1f | %.2f ms | %.2f ms | %s ms | %s ms | %.0f MiB | %s | %s |" % (
                n, len(rs), w, n / w, 1000 * med([r["cpu_s"] for r in rs]) / n,
                1000 * med([r["sim_cpu_s"] for r in rs]) / n,
                fmt_ms(med([r.get("task_ms_p50") for r in rs])).replace(" ms", ""),
                fmt_ms(med([r.get("task_ms_p99") for r in rs])).replace(" ms", ""),
                med([r["rss_kib"] for r in rs]) / 1024, before[0], before[1]))
        L.append("")
    if results.get("scale"):
        L.append("### Coordinator scale (`--scale`: zero latency, validators off)\n")
        L.append("A coordinator with 0 coders, worker processes each with its own llm-sim; "
                 "worker-1 killed (SIGKILL) part-way. Detect = kill to the coordinator's "
                 "\"worker-1 lost\" line (heartbeat 500 ms); re-run = kill to the last done line "
                 "of the tasks it queued again. Memory = the coordinator's peak RSS. Medians of "
                 "the runs column (wall: min and max too).\n")
        L.append("| tasks | workers x coders | runs | wall (median) | min | max | tasks/s "
                 "| coordinator CPU/task | coordinator peak RSS | requeued | detect | re-run |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        setups = {}
        for r in results["scale"]:   # one row per setup: the runs of a results file agree
            setups.setdefault((r["tasks"], r["workers"], r["per_worker"]), []).append(r)
        for (n, workers, per_worker), rs in setups.items():
            walls = [r["wall_s"] for r in rs]
            w = med(walls)
            L.append("| %d | %d x %d | %d | %.1f s | %.1f | %.1f | %.1f | %.2f ms | %.0f MiB | %s | %s | %s |" % (
                n, workers, per_worker, len(rs), w, min(walls), max(walls), n / w,
                1000 * med([r["cpu_s"] for r in rs]) / n, med([r["rss_kib"] for r in rs]) / 1024,
                fmt_count(med([r.get("requeued") for r in rs])),
                fmt_s(med([r.get("detect_s") for r in rs])),
                fmt_s(med([r.get("rerun_s") for r in rs]))))
        L.append("")
    if results.get("micro"):
        L.append("### Microbenchmarks (Google Benchmark, 0.5 s per case)\n")
        L.append("bench/micro_bench.cpp and bench/store_bench.cpp; wall and CPU time per "
                 "iteration; bytes = the serialized message's size.\n")
        L.append("| benchmark | wall | CPU | bytes |")
        L.append("|---|---|---|---|")
        for bm in results["micro"]:
            if bm.get("error"):
                L.append("| %s | skipped: %s | | |" % (bm["name"], bm["error"]))
                continue
            L.append("| %s | %s | %s | %s |" % (
                bm["name"], human_time(bm["real_time"], bm["unit"]),
                human_time(bm["cpu_time"], bm["unit"]),
                "%d" % bm["bytes"] if bm.get("bytes") else ""))
        L.append("")
    if results["demo"]:
        L.append("### Offline demo (`codehive run --demo`, browser check on)\n")
        L.append("Before: this file's figures of 2026-11-21 (demo_wall_time.sh, store wired in, "
                 "3 runs, mean), before exports were rendered once per batch of events.\n")
        L.append("| coders | wall (median) | min | max | runs | plan | coding | validation "
                 "| review | fix | before |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for k, rs in results["demo"].items():
            ws = [r["wall_s"] for r in rs]
            ph = {p: med([r["phases"][p] for r in rs])
                  for p in ("plan", "coding", "validation", "review", "fix")}
            L.append("| %s | %.2f s | %.2f | %.2f | %d | %s | %s |" % (
                k, med(ws), min(ws), max(ws), len(ws), " | ".join("%.2f" % ph[p] for p in ph),
                DEMO_BEFORE.get(k, "")))
        L.append("")
    if results.get("failures"):
        L.append("### Failed runs (left out of the tables above)\n")
        for f in results["failures"]:
            L.append("- " + f.splitlines()[0])
        L.append("")
    if plot:
        L.append("![speed-up against coders](%s)\n" % plot)
    else:
        L.append("(No plot: gnuplot is not installed, or fewer than two coder counts ran.)\n")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
