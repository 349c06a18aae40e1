// Validator: runs the workspace checks on the output folder. Detached: the
// checks block on subprocesses (node, chromium, the configured command).
#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "workspace/validation_cache.hpp"
#include "workspace/validators.hpp"

namespace codehive {

namespace {

struct validator_state {
  static inline const char* name = "validator";
  std::filesystem::path root;
  settings_ptr settings;
  std::string run_id;
  // Findings per file version, filled as versions land (precheck) and reused
  // by the round's validation; owns the long-lived node checker.
  std::unique_ptr<ws::validation_cache> cache = std::make_unique<ws::validation_cache>();
};

ws::validator_options options_of(const validator_state& st) {
  const auto& v = st.settings->validators;
  ws::validator_options opts;
  opts.json = v.json;
  opts.js = v.js;
  opts.html = v.html;
  opts.command = v.command;
  opts.command_timeout = v.command_timeout;
  opts.command_env_allow = v.command_env;
  opts.browser = v.browser;
  opts.browser_page = v.browser_page;
  opts.browser_click = v.browser_click;
  return opts;
}

msg::validation_report run_checks(validator_state& st, std::vector<std::string> files) {
  auto opts = options_of(st);
  opts.files = std::move(files);
  auto t0 = std::chrono::steady_clock::now();
  auto report = st.cache->validate(st.root, opts);
  msg::validation_report out;
  for (auto& f : report.findings)
    out.findings.push_back({f.check, f.file, f.line, f.message});
  for (auto& s : report.skipped)
    out.skipped.push_back(s.check + ": " + s.reason);
  out.checked_files = std::move(report.checked_files);
  out.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
  return out;
}

validator_actor::behavior_type validator(validator_actor::stateful_pointer<validator_state> self,
                                         std::filesystem::path root, settings_ptr settings,
                                         std::string run_id) {
  self->state.root = std::move(root);
  self->state.settings = std::move(settings);
  self->state.run_id = std::move(run_id);
  return {
    [self](atom::validate, std::vector<std::string>& files) -> msg::validation_report {
      auto out = run_checks(self->state, std::move(files));
      spdlog::info(
        "run={} task=validate validator: {} files ({} checked now, the rest cached){}, "
        "{} findings, {} skipped, {} ms",
        self->state.run_id, out.checked_files.size(), self->state.cache->rechecked().size(),
        self->state.cache->browser_reused() ? ", page load reused" : "", out.findings.size(),
        out.skipped.size(), out.elapsed_ms);
      return out;
    },
    [self](msg::precheck_file& f) {
      auto t0 = std::chrono::steady_clock::now();
      auto loads = self->state.cache->browser_checks();
      self->state.cache->precheck(self->state.root, f.path, options_of(self->state));
      if (self->state.cache->browser_checks() != loads)
        spdlog::info("run={} task=validate precheck {}: page loaded in the browser",
                     self->state.run_id, f.path);
      spdlog::debug("run={} task=validate precheck {} ({}): {} ms", self->state.run_id, f.path,
                    f.hash.substr(0, 12),
                    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                      .count());
    },
  };
}

}  // namespace

validator_actor spawn_validator(caf::actor_system& sys, std::filesystem::path root,
                                settings_ptr settings, std::string run_id) {
  return sys.spawn<caf::detached>(validator, std::move(root), std::move(settings),
                                  std::move(run_id));
}

}  // namespace codehive
