// Test support: run the real llm-sim binary as a child process, read its
// counts, and small helpers (HTTP GET/POST on loopback, a temporary folder).
//
//   auto sim = codehive::test::sim_process::start(R"({"rules":[...]})");
//   ... point a client at sim.base_url() (e.g. "http://127.0.0.1:41234") ...
//   EXPECT_EQ(sim.count_role_path("coder", "index.html"), 1);
//
// Include as "tests/support/sim_process.hpp"; link codehive_test_support.
// No gtest dependency: failures throw std::runtime_error with the reason
// (gtest reports an escaped exception as a test failure).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace codehive::test {

class child_process;

/// A fresh directory under the system temp dir, removed (recursively) when
/// the object is destroyed. Movable, not copyable.
class temp_dir {
 public:
  /// Creates "<tmp>/<prefix>-XXXXXX".
  explicit temp_dir(const std::string& prefix = "codehive-test");
  ~temp_dir();
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&& other) noexcept;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  /// path() / rel
  std::filesystem::path operator/(const std::filesystem::path& rel) const { return path_ / rel; }

  /// Writes `content` to path()/rel (creating parent folders); returns the full path.
  std::filesystem::path write(const std::filesystem::path& rel, const std::string& content) const;
  /// Reads path()/rel; throws if it cannot be read.
  std::string read(const std::filesystem::path& rel) const;

 private:
  std::filesystem::path path_;
};

/// One HTTP reply. status is -1 when no reply came (connection refused,
/// timeout, broken connection); `error` then says why.
struct http_reply {
  int status = -1;
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string error;
  bool ok() const noexcept { return status >= 200 && status < 300; }
  /// First header value with that name (case-insensitive), "" if none.
  std::string header(const std::string& name) const;
};

/// GET base_url + path, e.g. http_get("http://127.0.0.1:1234", "/api/tags").
http_reply http_get(const std::string& base_url, const std::string& path,
                    const std::map<std::string, std::string>& headers = {},
                    int timeout_ms = 10000);

/// POST base_url + path with a body (content type application/json by default).
http_reply http_post(const std::string& base_url, const std::string& path, const std::string& body,
                     const std::map<std::string, std::string>& headers = {},
                     int timeout_ms = 10000,
                     const std::string& content_type = "application/json");

/// A running llm-sim child process on 127.0.0.1 with an OS-chosen port.
class sim_process {
 public:
  struct options {
    int seed = 1;                          ///< --seed
    std::vector<std::string> extra_args;   ///< appended to the command line
    int start_timeout_ms = 10000;          ///< wait for the "listening" line
  };

  /// `scenario` is either inline JSON (first non-space char is '{') or a path
  /// to a scenario file. Inline JSON is written to a temp file first, so its
  /// relative {"file": ...} entries resolve against that temp folder: use
  /// absolute paths there (or pass a scenario file path). Throws
  /// std::runtime_error if the binary does not start or exits early (the
  /// message includes its output, e.g. the scenario error).
  static sim_process start(const std::string& scenario, const options& opts);
  static sim_process start(const std::string& scenario) { return start(scenario, options{}); }

  sim_process(sim_process&& other) noexcept;
  sim_process& operator=(sim_process&& other) noexcept;
  sim_process(const sim_process&) = delete;
  sim_process& operator=(const sim_process&) = delete;
  /// SIGTERM, wait up to 3 s, then SIGKILL; always reaps.
  ~sim_process();

  int port() const noexcept { return port_; }
  pid_t pid() const noexcept;
  /// "http://127.0.0.1:PORT" (no trailing slash).
  std::string base_url() const;

  /// Raw body of GET /sim/stats (throws on failure).
  std::string stats_json();
  /// Counts from /sim/stats (each call fetches fresh stats). 0 when absent.
  int count_role(const std::string& role);
  int count_path(const std::string& path);
  int count_role_path(const std::string& role, const std::string& path);
  int count_rule(const std::string& rule);
  int count_fault(const std::string& kind);
  int unmatched();
  int total();
  int max_in_flight();
  int with_bearer();

  /// POST /sim/reset: zero the counts and rewind every rule's sequence.
  void reset();

  /// Stops the process now (same as the destructor); returns its exit status
  /// as from waitpid, or -1 if it was not running.
  int stop();

  /// Everything the simulator printed so far (stdout and stderr: one log
  /// line per request), for failure messages.
  std::string output() const;

  /// Path of the llm-sim binary used (compiled in as CODEHIVE_LLM_SIM_PATH).
  static std::string binary_path();

 private:
  sim_process() = default;
  int stats_int(const char* object, const std::string& key);

  std::unique_ptr<child_process> child_;  // null once stopped
  int port_ = 0;
  std::unique_ptr<temp_dir> dir_;  // holds the inline scenario and the output capture
};

/// Runs llm-sim with `args` to completion (for bad-usage tests) and returns
/// its exit code and combined stdout+stderr. Kills it after timeout_ms.
struct run_result {
  int exit_code = -1;   ///< -1 if killed or signalled
  std::string output;
};
run_result run_llm_sim(const std::vector<std::string>& args, int timeout_ms = 10000);

}  // namespace codehive::test
