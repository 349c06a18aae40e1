// Issue 16, end to end: a model server (a gateway, as some are) that echoes
// the API key in its error bodies. The real codehive binary runs against it;
// the key must appear nowhere the run leaves text: its output, the exports in
// generated_files/, `codehive status`, and the run store's files. The error
// itself is kept, with the key replaced by "[redacted]".
#include <gtest/gtest.h>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "tests/cli/process.hpp"
#include "tests/support/sim_process.hpp"

namespace fs = std::filesystem;
using codehive::test::run_codehive;
using codehive::test::temp_dir;

namespace {

constexpr const char* secret = "sk-echo-E2E-SECRET-4242";

/// An OpenAI-compatible server that lists its model and answers every chat
/// with 400, quoting the request's Authorization header back.
class echoing_gateway {
 public:
  echoing_gateway() {
    srv_.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]})",
                      "application/json");
    });
    srv_.Post("/v1/chat/completions", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 400;
      res.set_content("{\"error\":{\"message\":\"request refused for credentials "
                        + req.get_header_value("Authorization") + "\",\"type\":\"invalid_request_error\"}}",
                      "application/json");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread{[this] { srv_.listen_after_bind(); }};
    // bind_to_any_port has bound: connections queue until listen runs.
  }
  ~echoing_gateway() {
    srv_.stop();
    thread_.join();
  }
  std::string spec() const { return "openai://127.0.0.1:" + std::to_string(port_) + "/v1/gpt-4o-mini"; }

 private:
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// configs/codehive.json with both models on the gateway, the key from
/// CODEHIVE_E2E_KEY (sent over plain HTTP: allowed for this test), no retries.
fs::path write_config(const fs::path& dir, const std::string& spec) {
  const fs::path src = fs::path{CODEHIVE_SOURCE_DIR} / "configs";
  std::string text = slurp(src / "codehive.json");
  for (const char* role : {"planner_model", "coder_model"}) {
    auto at = text.find(std::string{"\""} + role + "\"");
    auto spec_at = text.find("\"spec\":", at);
    auto end = text.find('\n', spec_at);
    text.replace(spec_at, end - spec_at,
                 "\"spec\": \"" + spec + "\", \"allow_insecure_key\": true, \"stream\": false,");
    auto key_at = text.find("\"api_key_env\": \"\"", at);
    text.replace(key_at, std::string{"\"api_key_env\": \"\""}.size(), "\"api_key_env\": \"CODEHIVE_E2E_KEY\"");
  }
  text = std::regex_replace(text, std::regex{R"("prompts_dir": "prompts")"},
                            "\"prompts_dir\": \"" + (src / "prompts").string() + "\"");
  text = std::regex_replace(text, std::regex{R"("schemas_dir": "schemas")"},
                            "\"schemas_dir\": \"" + (src / "schemas").string() + "\"");
  const fs::path p = dir / "codehive.json";
  std::ofstream{p} << text;
  return p;
}

TEST(Secrets, AKeyEchoedByTheServerIsInNoOutputExportStatusOrStoreFile) {
  echoing_gateway gw;
  temp_dir dir("codehive-secrets");
  const fs::path config = write_config(dir.path(), gw.spec());
  const fs::path out = dir.path() / "out";
  const fs::path store = dir.path() / "store";
  const std::vector<std::pair<std::string, std::string>> env{{"CODEHIVE_E2E_KEY", secret},
                                                             {"HOME", dir.path().string()}};
  auto run = run_codehive({"run", "a page that says hello", "--out", out.string(), "--store", store.string(),
                           "--config", config.string(), "-v"},
                          120000, env);
  ASSERT_EQ(run.exit_code, 3) << "a server that refuses every call is a model failure\n" << run.output;
  EXPECT_EQ(run.output.find(secret), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("[redacted]"), std::string::npos)
    << "the server's error should be shown, with the key replaced\n" << run.output;

  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex{R"(([0-9]{8}-[0-9]{6}-[0-9a-f]{4}))"})) << run.output;
  auto status = run_codehive({"status", m[1].str(), "--store", store.string()}, 60000, env);
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(status.output.find(secret), std::string::npos) << status.output;

  int files = 0;
  for (const auto& root : {out, store}) {
    if (!fs::exists(root))
      continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file())
        continue;
      ++files;
      EXPECT_EQ(slurp(e.path()).find(secret), std::string::npos) << "the key is in " << e.path();
    }
  }
  EXPECT_GT(files, 0) << "neither exports nor a store were written";
  EXPECT_TRUE(fs::exists(out / "generated_files" / "status.json")) << "no status.json to check";
}

}  // namespace
