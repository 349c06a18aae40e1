#include "nodes/generated_files.hpp"

#include <chrono>
#include <limits>

#include "actors/exports.hpp"
#include "workspace/file_ops.hpp"

namespace codehive {

bool write_generated_files(const planner_run& run, const std::filesystem::path& out,
                           std::string& error) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  ws::write_options wo;
  wo.max_bytes = std::numeric_limits<std::size_t>::max();  // ours, not a model's output
  for (const auto& e : render_exports(run, now)) {
    auto rel = "generated_files/" + e.name;
    if (auto w = ws::write_file(out, rel, e.content, wo); !w) {
      error = rel + ": " + w.err().describe();
      return false;
    }
  }
  return true;
}

}  // namespace codehive
