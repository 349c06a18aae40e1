// Write cost of the run store per task, as the pipeline writes it (planner
// and file tracker, actors/planner.cpp and actors/file_tracker.cpp):
//   transition pending->assigned (+ event), append_ledger (the coder's call),
//   put_file_version (blob + version index + current pointer + event),
//   transition assigned->done (+ event), append_ledger (the summarizer's
//   call), set_summary (the summarizer's line): 6 WriteBatches, 3 events.
// With sync on (the default: every batch fsyncs the WAL) and off.
//
//   build-store/bench/store_bench [--benchmark_min_time=2]
//   CODEHIVE_BENCH_DIR=/some/disk build-store/bench/store_bench   (default: the temp dir)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "storage/run_store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace codehive::store;

fs::path bench_dir() {
  const char* base = std::getenv("CODEHIVE_BENCH_DIR");
  fs::path root = base != nullptr ? fs::path{base} : fs::temp_directory_path();
  return root / ("codehive-store-bench-" + std::to_string(::getpid()));
}

struct fixture {
  fs::path dir;
  std::unique_ptr<run_store> store;
  std::string run;
  int planned = 0;
  int next = 0;

  explicit fixture(bool sync, const std::string& name) : dir(bench_dir() / name) {
    fs::remove_all(dir);
    store_options o;
    o.sync = sync;
    auto st = run_store::open(dir, o);
    if (!st) throw std::runtime_error(st.err().describe());
    store = std::move(*st);
    run = store->create_run("benchmark", "{}").value();
  }
  ~fixture() {
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void plan_more(int n) {
    std::vector<task_spec> plan;
    for (int i = planned; i < planned + n; ++i) {
      task_spec t;
      t.id = "t" + std::to_string(i);
      t.path = "src/module" + std::to_string(i) + ".js";
      t.description = "module " + std::to_string(i);
      t.instructions = "write module " + std::to_string(i) + " exporting one function";
      plan.push_back(std::move(t));
    }
    if (!store->put_plan(run, plan)) throw std::runtime_error("put_plan failed");
    planned += n;
  }
};

/// A ~2 KB file body, different per task (no dedup).
std::string content_for(int i) {
  std::string s = "// module " + std::to_string(i) + "\n";
  while (s.size() < 2048) s += "export function f" + std::to_string(i) + "(x) { return x * " + std::to_string(i) + "; }\n";
  return s;
}

void BM_TaskLifecycle(benchmark::State& state) {
  const bool sync = state.range(0) != 0;
  fixture fx{sync, sync ? "sync" : "nosync"};
  for (auto _ : state) {
    if (fx.next == fx.planned) {
      state.PauseTiming();
      fx.plan_more(1000);
      state.ResumeTiming();
    }
    const int i = fx.next++;
    const std::string id = "t" + std::to_string(i);
    if (!fx.store->transition(fx.run, id, task_state::assigned, by_worker("node1/coder" + std::to_string(i % 8))))
      state.SkipWithError("assign failed");
    auto hash = fx.store->put_file_version(fx.run, "src/module" + std::to_string(i) + ".js", content_for(i),
                                           from_task(id, "module"));
    if (!hash) state.SkipWithError("put_file_version failed");
    ledger_entry e;
    e.use.role = "coder";
    e.use.model = "qwen2.5-coder:7b";
    e.use.prompt_tokens = 900;
    e.use.completion_tokens = 600;
    e.use.latency = std::chrono::milliseconds{4200};
    e.task_id = id;
    e.attempt = 1;
    if (!fx.store->append_ledger(fx.run, e)) state.SkipWithError("append_ledger failed");
    if (!fx.store->transition(fx.run, id, task_state::done, producing(*hash)))
      state.SkipWithError("done failed");
    e.use.role = "summarizer";
    e.use.prompt_tokens = 700;
    e.use.completion_tokens = 25;
    if (!fx.store->append_ledger(fx.run, e)) state.SkipWithError("append_ledger failed");
    if (!fx.store->set_summary(fx.run, "src/module" + std::to_string(i) + ".js", "exports f" + std::to_string(i)))
      state.SkipWithError("set_summary failed");
  }
  state.SetLabel(sync ? "sync" : "no-sync");
  state.counters["tasks/s"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["writes/s"] = benchmark::Counter(6, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TaskLifecycle)->Arg(1)->Arg(0)->ArgName("sync")->Unit(benchmark::kMicrosecond)->UseRealTime();

/// Resume cost: load_run of a run with 1000 finished tasks.
void BM_LoadRun1000(benchmark::State& state) {
  fixture fx{false, "load"};
  fx.plan_more(1000);
  for (int i = 0; i < 1000; ++i) {
    std::string id = "t" + std::to_string(i);
    (void)fx.store->transition(fx.run, id, task_state::assigned, by_worker("w"));
    auto h = fx.store->put_file_version(fx.run, "src/module" + std::to_string(i) + ".js", content_for(i));
    (void)fx.store->transition(fx.run, id, task_state::done, producing(*h));
  }
  for (auto _ : state) {
    auto snap = fx.store->load_run(fx.run);
    if (!snap || snap->tasks.size() != 1000) state.SkipWithError("load_run failed");
    benchmark::DoNotOptimize(snap);
  }
}
BENCHMARK(BM_LoadRun1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
