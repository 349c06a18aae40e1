#include "nodes/run_session.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/live_view.hpp"
#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "llm/client.hpp"
#include "llm/error.hpp"
#include "llm/http_loop.hpp"
#include "llm/model_spec.hpp"
#include "llm/preflight.hpp"
#include "nodes/http/ttft_histogram.hpp"
#include "storage/run_store.hpp"

namespace codehive {

std::string find_unfinished(const store::run_store& runs, const std::string& request,
                            const std::string& out_dir) {
  auto all = runs.list_runs();
  if (!all)
    return {};
  for (auto it = all->rbegin(); it != all->rend(); ++it)
    if (it->state != store::run_state::done && it->request == request
        && run_settings_from_json(it->config_json).out_dir == out_dir)
      return it->id;
  return {};
}

std::optional<opened_run> open_run(store::run_store& runs, std::string run_id,
                                   const std::string& request, const run_settings& settings,
                                   bool fresh, std::string& error) {
  if (run_id.empty() && !fresh)
    run_id = find_unfinished(runs, request, settings.out_dir);
  opened_run out;
  out.continuing = !run_id.empty();
  if (out.continuing) {
    auto rec = runs.get_run(run_id);
    if (!rec) {
      error = rec.err().describe();
      return std::nullopt;
    }
    if (auto w = runs.set_run_config(run_id, to_json(settings)); !w) {
      error = w.err().describe();
      return std::nullopt;
    }
    if (rec->state != store::run_state::running) {
      if (auto w = runs.set_run_state(run_id, store::run_state::running,
                                      std::string{"resumed after: "} + store::to_string(rec->state));
          !w) {
        error = w.err().describe();
        return std::nullopt;
      }
    }
    out.run_id = run_id;
  } else {
    auto created = runs.create_run(request, to_json(settings));
    if (!created) {
      error = created.err().describe();
      return std::nullopt;
    }
    out.run_id = *created;
  }
  return out;
}

namespace {

/// What the user should know about running `coders` calls at once there.
std::string parallelism_note(const llm::endpoint_config& ep, const llm::preflight_report& r,
                             int coders) {
  if (coders <= 1)
    return {};
  if (r.parallel > 0 && r.parallel < coders)
    return ep.spec.model + " is served " + std::to_string(r.parallel) + " request(s) at a time ("
           + ep.spec.base_url + "); " + std::to_string(coders)
           + " coders will queue there: start the server with more slots (llama.cpp: --parallel "
           + std::to_string(coders) + ") or use fewer --coders";
  if (ep.spec.kind == llm::api::ollama)
    return "Ollama runs OLLAMA_NUM_PARALLEL requests per model at once (by default 1 or 4, by "
           "memory); for " + std::to_string(coders) + " coders start it with OLLAMA_NUM_PARALLEL="
           + std::to_string(coders) + " (queued requests wait; they are not retried)";
  return {};
}

}  // namespace

bool preflight_models(codehive_config& cfg, bool planner, bool coder, int coders,
                      std::string& error) {
  llm::http_loop loop;
  std::vector<llm::endpoint_config*> eps;
  if (planner)
    eps.push_back(&cfg.planner_model);
  if (coder && !(planner && llm::to_string(cfg.coder_model.spec) == llm::to_string(cfg.planner_model.spec)))
    eps.push_back(&cfg.coder_model);
  for (auto* ep : eps) {
    auto r = llm::preflight_sync(loop, *ep);
    if (!r) {
      error = r.err().describe();
      loop.shutdown();
      return false;
    }
    for (const auto& note : r->notes)
      spdlog::warn("preflight: {}", note);
    if (auto note = llm::fit_context(*ep, *r); !note.empty())
      spdlog::warn("preflight: {}", note);
    if (ep == &cfg.coder_model || !coder)
      if (auto note = parallelism_note(*ep, *r, coders); !note.empty())
        spdlog::warn("preflight: {}", note);
  }
  loop.shutdown();
  return true;
}

void tune_config(codehive_config& cfg, int coders, int fixers) {
  // The price table fills in endpoints that name no price of their own.
  for (auto* ep : {&cfg.planner_model, &cfg.coder_model}) {
    auto it = cfg.prices.find(ep->spec.model);
    if (it != cfg.prices.end() && ep->price_prompt_per_mtok == 0
        && ep->price_completion_per_mtok == 0) {
      ep->price_prompt_per_mtok = it->second.prompt_per_mtok;
      ep->price_completion_per_mtok = it->second.completion_per_mtok;
    }
  }
  // N coders should really run N calls at once; endpoints sharing a server
  // share one in-flight limit in the HTTP loop, so give both the larger one.
  cfg.coder_model.max_in_flight = std::max(cfg.coder_model.max_in_flight, coders + fixers);
  if (llm::http_loop::endpoint_of(cfg.coder_model.spec.base_url)
      == llm::http_loop::endpoint_of(cfg.planner_model.spec.base_url)) {
    auto n = std::max(cfg.coder_model.max_in_flight, cfg.planner_model.max_in_flight);
    cfg.coder_model.max_in_flight = cfg.planner_model.max_in_flight = n;
  }
  // File content in one request must fit the small model's window (~3 chars
  // a token, half the window for content).
  cfg.pipeline.context_chars = std::min<std::size_t>(
    cfg.pipeline.context_chars, static_cast<std::size_t>(cfg.coder_model.context_tokens) * 3 / 2);
  cfg.pipeline.review_chars = static_cast<std::size_t>(cfg.planner_model.context_tokens) * 3 / 2;
}

llm::usage_observer ledger_writer(std::shared_ptr<store::run_store> runs, std::string run_id,
                                  bool large) {
  return [runs = std::move(runs), run_id = std::move(run_id), large](const llm::usage& u,
                                                                     std::optional<llm::errc> e) {
    store::ledger_entry entry;
    entry.use = u;
    if (large && u.role == "coder")
      entry.use.role = "coder_escalated";
    if (e) {
      entry.outcome = "error";
      entry.error_code = llm::to_string(*e);
    }
    // In memory only, for /metrics: the store keeps no time to first token.
    if (u.first_token)
      ttft_histogram::process().observe(entry.use.role, u.model,
                                        static_cast<double>(u.first_token->count()) / 1000.0);
    if (auto r = runs->append_ledger(run_id, entry); !r)
      spdlog::warn("run={} run store: cannot record a model call: {}", run_id,
                   r.err().describe());
  };
}

struct run_session::impl {
  msg::run_request request;
  planner_actor planner;
  planner_team team;
  std::shared_ptr<live_board> board = std::make_shared<live_board>();
  bool stopped = false;
};

run_session::run_session(caf::actor_system& sys, llm::http_loop& loop, const codehive_config& cfg,
                         std::shared_ptr<store::run_store> runs, session_params p,
                         progress_actor progress)
  : d_(std::make_unique<impl>()) {
  d_->request = std::move(p.request);
  const auto& run_id = d_->request.run_id;
  std::filesystem::path out_dir = d_->request.out_dir;
  auto planner_ep = cfg.planner_model;
  auto coder_ep = cfg.coder_model;
  planner_ep.on_usage = ledger_writer(runs, run_id, true);
  coder_ep.on_usage = ledger_writer(runs, run_id, false);
  auto large = llm::make_client(loop, planner_ep);
  auto small = llm::make_client(loop, coder_ep);
  auto settings = std::make_shared<const pipeline_settings>(cfg.pipeline);
  auto& team = d_->team;
  team.store = runs;
  team.tracker = spawn_file_tracker(sys, out_dir, small, settings, run_id, runs,
                                    p.copy_files ? progress : progress_actor{});
  team.validator = spawn_validator(sys, out_dir, settings, run_id);
  team.reviewer = spawn_reviewer(sys, large, settings);
  for (int i = 0; i < p.coders; ++i)
    team.coders.push_back(spawn_coder(sys, small, settings, "coder-" + std::to_string(i + 1)));
  for (int i = 0; i < p.fixers; ++i)
    team.fixers.push_back(spawn_fixer(sys, small, settings, "fixer-" + std::to_string(i + 1)));
  team.escalation = spawn_coder(sys, large, settings, "large-coder");
  team.progress = std::move(progress);
  team.board = d_->board;
  team.local_model = coder_ep.spec.model;
  d_->planner = spawn_planner(sys, large, settings, team);
}

run_session::~run_session() {
  stop();
}

const planner_actor& run_session::planner() const noexcept {
  return d_->planner;
}

const msg::run_request& run_session::request() const noexcept {
  return d_->request;
}

const std::shared_ptr<live_board>& run_session::board() const noexcept {
  return d_->board;
}

void run_session::stop() {
  if (d_->stopped)
    return;
  d_->stopped = true;
  auto stop = [](const auto& h) {
    if (h)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  };
  auto& team = d_->team;
  stop(d_->planner);
  stop(team.tracker);
  stop(team.validator);
  stop(team.reviewer);
  for (auto& c : team.coders)
    stop(c);
  for (auto& f : team.fixers)
    stop(f);
  stop(team.escalation);
}

}  // namespace codehive
