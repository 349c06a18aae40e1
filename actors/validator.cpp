// Validator: runs the workspace checks on the output folder. Detached: the
// checks block on subprocesses (node, chromium, the configured command).
#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "workspace/validators.hpp"

namespace codehive {

namespace {

struct validator_state {
  static inline const char* name = "validator";
  std::filesystem::path root;
  settings_ptr settings;
  std::string run_id;
};

msg::validation_report run_checks(const validator_state& st, std::vector<std::string> files) {
  const auto& v = st.settings->validators;
  ws::validator_options opts;
  opts.files = std::move(files);
  opts.json = v.json;
  opts.js = v.js;
  opts.html = v.html;
  opts.command = v.command;
  opts.command_timeout = v.command_timeout;
  opts.command_env_allow = v.command_env;
  opts.browser = v.browser;
  opts.browser_page = v.browser_page;
  auto t0 = std::chrono::steady_clock::now();
  auto report = ws::validate_output(st.root, opts);
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
      spdlog::info("run={} task=validate validator: {} files, {} findings, {} skipped, {} ms",
                   self->state.run_id, out.checked_files.size(), out.findings.size(),
                   out.skipped.size(), out.elapsed_ms);
      return out;
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
