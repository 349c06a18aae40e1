// --http's flags checked before anything listens: the bearer token file is
// read like the join token (a file its group or others can read is loaded,
// with a warning that names the mode and the fix). Issue 16.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "nodes/http/api_server.hpp"

namespace {

namespace fs = std::filesystem;

struct log_capture {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  log_capture() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~log_capture() { spdlog::set_default_logger(previous); }
};

TEST(HttpFlags, ATokenFileOthersCanReadIsLoadedWithAWarning) {
  auto file = fs::temp_directory_path() / ("codehive-http-token-" + std::to_string(::getpid()));
  std::ofstream{file} << "bearer-s3cret\n";
  codehive::http_flags f;
  f.listen = "0.0.0.0:0";
  f.token_file = file.string();
  std::string error;
  ::chmod(file.c_str(), 0644);
  {
    log_capture log;
    auto c = codehive::check_http_flags(f, error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->token, "bearer-s3cret");
    auto line = log.text.str();
    EXPECT_NE(line.find("the HTTP token file " + file.string() + " is readable by everyone (mode 0644)"),
              std::string::npos)
      << line;
    EXPECT_NE(line.find("chmod 600"), std::string::npos) << line;
    EXPECT_EQ(line.find("bearer-s3cret"), std::string::npos) << "the token itself was logged: " << line;
  }
  ::chmod(file.c_str(), 0600);
  {
    log_capture log;
    ASSERT_TRUE(codehive::check_http_flags(f, error)) << error;
    EXPECT_EQ(log.text.str(), "") << "an owner-only file needs no warning";
  }
  fs::remove(file);
}

}  // namespace
