// libFuzzer target: the plan validator, as the planner uses it
// (actors/planner/planning.cpp, on_plan_reply): parse_plan on an arbitrary
// model answer, then task_graph::build from each task's id/path/depends_on.
// When a graph is built, the whole plan is scheduled to the end, with some
// attempts failing (chosen by the input bytes), the way the planner drives it.
// Invariants checked besides "no crash, no sanitizer report":
//  - a refused plan or graph always comes with a reason;
//  - a built graph has one node per task, in plan order, each found by its id,
//    with its path normalized (normalizing again changes nothing) and outside
//    the reserved exports folder;
//  - ready() lists only pending tasks whose dependencies are all done, longest
//    critical path first;
//  - scheduling always ends (no task stays pending with nothing ready) with
//    every task done, failed or skipped, and the state counts add up.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "actors/answers.hpp"
#include "actors/task_graph.hpp"
#include "workspace/path_rules.hpp"

using namespace codehive;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

void schedule_to_the_end(task_graph& g, const std::uint8_t* data, std::size_t size) {
  const std::size_t n = g.size();
  for (std::size_t i = 0; i < n; ++i)
    if (g.at(i).state != graph_task_state::pending) fail("a new graph has a task not pending", g.at(i).spec.id);
  retry_policy policy;  // defaults: 2 small attempts, 1 large, then give up
  // Each attempt either finishes its task or fails once; every task fails at
  // most small+large times, so this many steps always suffice.
  const std::size_t max_steps = n * static_cast<std::size_t>(policy.small_attempts + policy.large_attempts + 1) + 1;
  std::size_t step = 0;
  while (!g.finished()) {
    if (++step > max_steps) fail("scheduling does not end", std::to_string(n) + " tasks");
    auto ready = g.ready();
    if (ready.empty()) fail("tasks pending but none ready", std::to_string(g.count(graph_task_state::pending)) + " pending");
    for (std::size_t k = 0; k < ready.size(); ++k) {
      const auto& node = g.at(ready[k]);
      if (node.state != graph_task_state::pending) fail("ready task not pending", node.spec.id);
      for (std::size_t d : node.deps)
        if (g.at(d).state != graph_task_state::done) fail("ready task has an unfinished dependency", node.spec.id);
      if (k > 0 && g.at(ready[k - 1]).critical_length < node.critical_length)
        fail("ready() not ordered by critical path", node.spec.id);
    }
    // Start the first ready task and end its attempt; a byte of the input
    // (cycled) decides whether it fails.
    std::size_t i = ready.front();
    g.mark_running(i, static_cast<int>(step % 4));
    if (g.at(i).state != graph_task_state::running) fail("mark_running did not run", g.at(i).spec.id);
    bool fails = size > 0 && (data[step % size] & 0x3) == 0;
    if (fails)
      g.record_failure(i, policy);
    else
      g.mark_done(i);
  }
  int total = 0;
  for (auto s : {graph_task_state::pending, graph_task_state::running, graph_task_state::done, graph_task_state::failed, graph_task_state::skipped})
    total += g.count(s);
  if (total != static_cast<int>(n)) fail("state counts do not add up", std::to_string(total) + " of " + std::to_string(n));
  if (g.count(graph_task_state::pending) != 0 || g.count(graph_task_state::running) != 0)
    fail("finished with tasks pending or running", std::to_string(n));
  for (std::size_t i = 0; i < n; ++i) {
    const auto& node = g.at(i);
    if (node.state == graph_task_state::done)
      for (std::size_t d : node.deps)
        if (g.at(d).state != graph_task_state::done) fail("done before its dependency", node.spec.id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string answer(reinterpret_cast<const char*>(data), size);
  auto plan = parse_plan(answer);
  if (!plan) {
    if (plan.error.empty()) fail("plan refused without a reason", answer.substr(0, 200));
    return 0;
  }
  if (plan.value->empty()) fail("an empty plan accepted", answer.substr(0, 200));
  std::vector<graph_task_spec> specs;
  for (const auto& t : *plan.value) {
    // The action is an enum now: an unknown word cannot get this far; its name must read back.
    auto name = std::string{to_string(t.action)};
    if (msg::parse_task_action(name) != t.action) fail("an action that does not read back", name);
    specs.push_back({t.id, t.path, t.depends_on});
  }
  std::string error;
  auto graph = task_graph::build(specs, error);
  if (!graph) {
    if (error.empty()) fail("graph refused without a reason", answer.substr(0, 200));
    return 0;
  }
  if (graph->size() != specs.size()) fail("graph size differs from the plan", std::to_string(graph->size()));
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (graph->at(i).spec.id != specs[i].id) fail("graph not in plan order", specs[i].id);
    auto found = graph->index_of(specs[i].id);
    if (!found || *found != i) fail("index_of does not find a task", specs[i].id);
    const std::string& path = graph->at(i).spec.path;
    auto again = ws::normalize_relative(path);
    if (!again || *again != path) fail("a built graph holds a path not normalized", path);
    if ((path + "/").rfind("generated_files/", 0) == 0) fail("a reserved path accepted", path);
    if (graph->at(i).deps.size() > specs[i].depends_on.size()) fail("more dependencies than planned", specs[i].id);
    for (std::size_t d : graph->at(i).deps)
      if (d >= specs.size() || d == i) fail("dependency index out of range or on itself", specs[i].id);
  }
  schedule_to_the_end(*graph, data, size);
  return 0;
}
