#include "workspace/subprocess.hpp"
#include "workspace/validators.hpp"

namespace codehive::ws {

void check_command(const std::filesystem::path& root, const std::string& command, std::chrono::milliseconds timeout,
                   validation_report& out, const std::vector<std::string>& env_allow) {
  if (command.empty()) return;
  // The command runs code a model wrote: none of our secrets, no network.
  sandbox_options sandbox;
  sandbox.env_allow = env_allow;
  auto r = run_sandboxed_shell(command, root, timeout, sandbox);
  if (!r) {
    out.findings.push_back({"", 0, "command", "cannot run `" + command + "`: " + r.err().reason});
    return;
  }
  if (r->success()) return;
  std::string output = r->out;
  if (!output.empty() && output.back() != '\n' && !r->err.empty()) output += '\n';
  output += r->err;
  std::string msg;
  if (r->timed_out)
    msg = "`" + command + "` timed out after " + std::to_string(timeout.count() / 1000.0).substr(0, 5) + " s";
  else if (r->term_signal != 0)
    msg = "`" + command + "` was killed by signal " + std::to_string(r->term_signal);
  else
    msg = "`" + command + "` failed with exit code " + std::to_string(r->exit_code);
  auto tail = tail_lines(output, 40);
  if (!tail.empty()) msg += ":\n" + tail;
  out.findings.push_back({"", 0, "command", std::move(msg)});
}

}  // namespace codehive::ws
