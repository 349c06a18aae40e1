#include "workspace/subprocess.hpp"

#include <signal.h>

#include <thread>

#include <gtest/gtest.h>

#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using namespace std::chrono_literals;

namespace {
class subprocess : public ws::test::temp_dir_test {};
}  // namespace

TEST_F(subprocess, captures_stdout_stderr_exit_code_and_runs_in_cwd) {
  ws::subprocess_options o;
  o.argv = {"sh", "-c", "pwd; echo oops >&2; exit 3"};
  o.cwd = root;
  auto r = ws::run_subprocess(o);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->success());
  EXPECT_EQ(r->out, std::filesystem::canonical(root).string() + "\n");
  EXPECT_EQ(r->err, "oops\n");
}

TEST_F(subprocess, arguments_are_not_interpreted_by_a_shell) {
  ws::subprocess_options o;
  o.argv = {"printf", "%s|", "$HOME", "a b", ";rm -rf x"};
  auto r = ws::run_subprocess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->success());
  EXPECT_EQ(r->out, "$HOME|a b|;rm -rf x|");
}

TEST_F(subprocess, feeds_stdin_and_sets_environment) {
  ws::subprocess_options o;
  o.argv = {"sh", "-c", "tr a-z A-Z; echo \"$WS_TEST_VAR\""};
  o.stdin_data = std::string(200000, 'a');  // more than a pipe buffer
  o.env = {{"WS_TEST_VAR", "hello"}};
  auto r = ws::run_subprocess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, std::string(200000, 'A') + "hello\n");
}

TEST_F(subprocess, timeout_kills_the_whole_process_group) {
  auto marker = dir / "survived";
  ws::subprocess_options o;
  // A grandchild that would write the marker if it outlived the timeout.
  o.argv = {"sh", "-c", "(sleep 2; touch '" + marker.string() + "') & sleep 30"};
  o.timeout = 300ms;
  auto r = ws::run_subprocess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->success());
  EXPECT_LT(r->elapsed, 5s);
  std::this_thread::sleep_for(2500ms);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a grandchild survived the timeout";
}

TEST_F(subprocess, background_jobs_do_not_hold_the_caller_after_exit) {
  ws::subprocess_options o;
  o.argv = {"sh", "-c", "sleep 30 & echo started"};
  o.timeout = 20s;
  auto r = ws::run_subprocess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->success());
  EXPECT_EQ(r->out, "started\n");
  EXPECT_LT(r->elapsed, 5s);
}

TEST_F(subprocess, spawn_failures_are_errors) {
  ws::subprocess_options o;
  o.argv = {"definitely-not-a-program-xyz"};
  EXPECT_EQ(ws::run_subprocess(o).err().code, ws::errc::spawn_failed);
  o.argv = {"true"};
  o.cwd = dir / "no-such-dir";
  EXPECT_EQ(ws::run_subprocess(o).err().code, ws::errc::spawn_failed);
  o.argv = {};
  EXPECT_EQ(ws::run_subprocess(o).err().code, ws::errc::spawn_failed);
}

TEST_F(subprocess, output_is_capped_keeping_the_tail) {
  ws::subprocess_options o;
  o.argv = {"sh", "-c", "seq 1 100000"};
  o.max_output_bytes = 100;
  auto r = ws::run_subprocess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.size(), 100u);
  EXPECT_EQ(r->out.substr(r->out.size() - 7), "100000\n");
}

// The isolated child (fork + namespaces instead of posix_spawn) keeps every
// promise of the plain one: cwd, stdin, exit status, spawn failures as
// errors, the whole group killed on timeout, and a clean environment.
TEST_F(subprocess, a_child_without_network_behaves_like_any_other) {
  ws::subprocess_options o;
  o.argv = {"sh", "-c", "pwd; tr a-z A-Z; echo \"[$WS_TEST_VAR][$HOME]\"; exit 4"};
  o.cwd = root;
  o.stdin_data = "abc\n";
  o.env = {{"WS_TEST_VAR", "v"}};
  o.clean_env = true;
  o.no_network = true;
  auto r = ws::run_subprocess(o);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->out, std::filesystem::canonical(root).string() + "\nABC\n[v][]\n");
  o.cwd = dir / "no-such-dir";
  EXPECT_EQ(ws::run_subprocess(o).err().code, ws::errc::spawn_failed);
  o.cwd = root;
  o.argv = {"definitely-not-a-program-xyz"};
  EXPECT_EQ(ws::run_subprocess(o).err().code, ws::errc::spawn_failed);

  auto marker = dir / "survived";
  o.argv = {"/bin/sh", "-c", "(sleep 2; touch '" + marker.string() + "') & sleep 30"};
  o.stdin_data.clear();
  o.timeout = 300ms;
  auto t = ws::run_subprocess(o);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->timed_out);
  std::this_thread::sleep_for(2500ms);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a grandchild survived the timeout";
}

TEST(subprocess_helpers, run_shell_find_on_path_and_tail_lines) {
  auto r = ws::run_shell("echo $((2+3))", "/", 5s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "5\n");
  EXPECT_TRUE(ws::find_on_path("sh").has_value());
  EXPECT_FALSE(ws::find_on_path("definitely-not-a-program-xyz").has_value());
  EXPECT_EQ(ws::tail_lines("a\nb\nc\nd\n", 2), "c\nd");
  EXPECT_EQ(ws::tail_lines("a", 2), "a");
  EXPECT_EQ(ws::tail_lines("", 2), "");
}
