// configs/demo with the simulator's pacing taken out (answers at once), for
// tests whose subject is not the model's timing: a run finishes in seconds,
// not the ~20 s of the paced demo. Point CODEHIVE_DEMO_DIR at path().
#pragma once

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/sim_process.hpp"

namespace codehive::crash_test {

class fast_demo {
 public:
  fast_demo() : dir_("codehive-fast-demo") {
    namespace fs = std::filesystem;
    const fs::path demo = fs::path{CODEHIVE_SOURCE_DIR} / "configs" / "demo";
    for (const auto& e : fs::directory_iterator(demo))
      if (e.path().filename() != "scenario.json") fs::create_symlink(e.path(), dir_ / e.path().filename());
    std::ifstream in(demo / "scenario.json", std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = std::regex_replace(ss.str(), std::regex{R"("ttft_ms"\s*:\s*[0-9]+)"}, R"("ttft_ms": 0)");
    text = std::regex_replace(text, std::regex{R"("tokens_per_s"\s*:\s*[0-9]+)"}, R"("tokens_per_s": 1000000)");
    dir_.write("scenario.json", text);
  }
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  codehive::test::temp_dir dir_;
};

}  // namespace codehive::crash_test
