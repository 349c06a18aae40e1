#include "workspace/validators.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "workspace/js_scan.hpp"
#include "workspace/landlock.hpp"
#include "workspace/subprocess.hpp"
#include "ws_test_util.hpp"

namespace ws = codehive::ws;
using namespace std::chrono_literals;

namespace {

class validators : public ws::test::temp_dir_test {
 protected:
  ws::validation_report html(const std::string& rel, const std::string& content) {
    put(root / rel, content);
    ws::validation_report rep;
    ws::check_html(root, rel, content, rep);
    return rep;
  }
};

bool have_node() { return ws::find_on_path("node").has_value(); }

}  // namespace

// --- JSON --------------------------------------------------------------------

TEST_F(validators, json_parse_error_has_the_line) {
  ws::validation_report rep;
  ws::check_json("data.json", "{\n  \"a\": 1,\n  \"b\": ,\n}\n", rep);
  expect_only_finding(rep, {.check = "json", .file = "data.json", .line = 3});
  ws::validation_report ok;
  ws::check_json("ok.json", R"({"a":[1,2,{"b":null}]})", ok);
  EXPECT_TRUE(ok.clean());
}

// --- HTML references -----------------------------------------------------------

TEST_F(validators, missing_local_src_and_href_are_findings_with_lines) {
  put(root / "css/site.css", "body{}");
  put(root / "img/a b.png", "x");
  auto rep = html("index.html",
                  "<!doctype html>\n"
                  "<link rel=\"stylesheet\" href=\"css/site.css?v=2\">\n"
                  "<link rel=\"stylesheet\" href=\"https://cdn.example.com/x.css\">\n"
                  "<script src=\"js/app.js\"></script>\n"
                  "<img src=\"img/a%20b.png\"><img src=\"data:image/png;base64,AAAA\">\n"
                  "<a href=\"#top\">t</a> <a href=\"mailto:x@y\">m</a> <a href=\"//cdn.x/y\">c</a>\n"
                  "<a href=\"about.html#team\">about</a>\n"
                  "<a href=\"javascript:void(0)\">j</a>\n");
  ASSERT_EQ(rep.findings.size(), 2u) << describe(rep);
  EXPECT_EQ(rep.findings[0].line, 4);
  EXPECT_EQ(rep.findings[0].check, "html_ref");
  EXPECT_NE(rep.findings[0].message.find("js/app.js does not exist"), std::string::npos);
  EXPECT_EQ(rep.findings[1].line, 7);
  EXPECT_NE(rep.findings[1].message.find("about.html"), std::string::npos);
}

TEST_F(validators, references_resolve_relative_to_the_page_and_may_not_leave_the_root) {
  put(root / "shared/style.css", "x");
  put(dir / "secret.css", "x");
  auto rep = html("pages/p.html",
                  "<link href=\"../shared/style.css\" rel=stylesheet>\n"
                  "<link href=\"/shared/style.css\" rel=stylesheet>\n"
                  "<link href=\"../../secret.css\" rel=stylesheet>\n");
  expect_only_finding(rep, {.line = 3, .says = "outside the output folder"});
}

// --- inline handlers -------------------------------------------------------------

TEST_F(validators, handler_calling_an_undefined_function_is_a_finding_with_its_line) {
  auto rep = html("index.html",
                  "<html><body>\n"
                  "<button onclick=\"save()\">Save</button>\n"
                  "<button\n   onclick=\"resetBoard(); return false\">Reset</button>\n"
                  "<script>function save() { localStorage.x = 1; }</script>\n"
                  "</body></html>\n");
  expect_only_finding(rep, {.check = "html_handler", .line = 4, .says = "resetBoard()"});
}

TEST_F(validators, handler_defined_in_a_linked_script_is_fine) {
  put(root / "js/app.js",
      "// function ghost() {} in a comment does not count\n"
      "function addCard(col) {}\n"
      "async function load() {}\n"
      "const removeCard = (id) => {};\n"
      "let toggle = function () {};\n"
      "var sortBy = key => key;\n"
      "window.openModal = () => {};\n"
      "class Board { render() {} }\n");
  auto rep = html("index.html",
                  "<script src=\"js/app.js\"></script>\n"
                  "<div onclick=\"addCard('todo')\" ondblclick=\"removeCard(1)\" onmouseover=\"toggle()\"></div>\n"
                  "<div onchange=\"sortBy(this.value)\" onload=\"load().then(() => openModal())\"></div>\n"
                  "<a onclick=\"return false\">x</a><a onclick=\"this.classList.toggle('x')\">y</a>\n"
                  "<a onclick=\"event.preventDefault(); alert('hi (there)'); console.log(1)\">z</a>\n"
                  "<a onclick=\"new Board().render()\">n</a>\n");
  EXPECT_TRUE(rep.clean()) << describe(rep);
}

TEST_F(validators, class_methods_and_commented_functions_do_not_define_globals) {
  put(root / "app.js", "class Board { render() {} }\n/* function ghost() {} */\nconst o = { helper() {} };\n");
  auto rep = html("index.html",
                  "<script src=\"app.js\"></script>\n"
                  "<button onclick=\"render()\">a</button>\n"
                  "<button onclick=\"ghost()\">b</button>\n"
                  "<button onclick=\"helper()\">c</button>\n");
  ASSERT_EQ(rep.findings.size(), 3u) << describe(rep);
  EXPECT_EQ(rep.findings[0].line, 2);
  EXPECT_EQ(rep.findings[1].line, 3);
  EXPECT_EQ(rep.findings[2].line, 4);
}

TEST_F(validators, functions_of_a_module_script_are_not_global) {
  put(root / "app.js", "import { x } from './x.js';\nfunction start() {}\nexport function other() {}\nwindow.shown = () => {};\n");
  put(root / "x.js", "export const x = 1;\n");
  auto rep = html("index.html",
                  "<script type=\"module\" src=\"app.js\"></script>\n"
                  "<button onclick=\"start()\">a</button>\n"
                  "<button onclick=\"shown()\">b</button>\n");
  expect_only_finding(rep, {.line = 2, .says = "module"});
}

TEST_F(validators, scripts_of_other_types_do_not_define_anything) {
  auto rep = html("index.html",
                  "<script type=\"text/template\">function tpl() {}</script>\n"
                  "<button onclick=\"tpl()\">a</button>\n");
  ASSERT_EQ(rep.findings.size(), 1u) << describe(rep);
}

TEST(js_scan, definitions_and_calls) {
  std::set<std::string> defs;
  ws::js::collect_definitions(
      "const s = \"function fake() {}\"; const re = /function nope\\(/g;\n"
      "function real() { function nested() {} }\nObject.assign(window, { a, b: c });\n",
      false, defs);
  EXPECT_TRUE(defs.count("real"));
  EXPECT_TRUE(defs.count("nested"));
  EXPECT_TRUE(defs.count("a"));
  EXPECT_TRUE(defs.count("b"));
  EXPECT_FALSE(defs.count("fake"));
  EXPECT_FALSE(defs.count("nope"));
  EXPECT_EQ(ws::js::called_functions("if (ok()) go(1); else obj.stop(); x?.y()"),
            (std::vector<std::string>{"ok", "go"}));
  EXPECT_TRUE(ws::js::uses_module_syntax("import x from './a.js';"));
  EXPECT_TRUE(ws::js::uses_module_syntax("const a = 1;\nexport { a };"));
  EXPECT_FALSE(ws::js::uses_module_syntax("const m = import('./a.js'); // import x from 'y'"));
}

// --- node --check ---------------------------------------------------------------

TEST_F(validators, node_check_reports_a_syntax_error_with_its_line) {
  if (!have_node()) GTEST_SKIP() << "node is not installed";
  put(root / "js/app.js", "let a = 1;\nfunction f() {\n  return (;\n}\n");
  ws::validation_report rep;
  ws::check_js(root, "js/app.js", rep);
  expect_only_finding(
    rep, {.check = "js_syntax", .file = "js/app.js", .line = 3, .says = "SyntaxError"});
}

TEST_F(validators, node_check_handles_es_modules) {
  if (!have_node()) GTEST_SKIP() << "node is not installed";
  put(root / "ok.js", "import { x } from './x.js';\nexport const y = x + 1;\n");
  put(root / "bad.js", "import { x } from './x.js';\nexport const y = ;\n");
  put(root / "classic.js", "function f() { return 1; }\n");
  ws::validation_report rep;
  ws::check_js(root, "ok.js", rep);
  ws::check_js(root, "classic.js", rep);
  EXPECT_TRUE(rep.clean()) << describe(rep);
  ws::check_js(root, "bad.js", rep);
  expect_only_finding(rep, {.line = 2});
}

TEST_F(validators, missing_node_is_a_skipped_check_not_a_finding) {
  put(root / "a.js", "let = ;");
  ws::validation_report rep;
  ws::check_js(root, "a.js", rep, "definitely-not-node-xyz");
  ws::check_js(root, "a.js", rep, "definitely-not-node-xyz");
  EXPECT_TRUE(rep.clean());
  expect_only_skipped(rep, "js_syntax");
}

// --- shell command ---------------------------------------------------------------

TEST_F(validators, command_failure_is_a_finding_with_exit_code_and_output_tail) {
  ws::validation_report rep;
  ws::check_command(root, "echo compiling; echo 'main.go:3: undefined: x' >&2; exit 2", 10s, rep);
  ASSERT_NO_FATAL_FAILURE(expect_only_finding(rep, {.check = "command", .says = "exit code 2"}));
  EXPECT_NE(rep.findings[0].message.find("main.go:3: undefined: x"), std::string::npos);
  ws::validation_report ok;
  put(root / "marker", "x");
  ws::check_command(root, "test -f marker", 10s, ok);  // runs in the output folder
  EXPECT_TRUE(ok.clean()) << describe(ok);
}

TEST_F(validators, command_timeout_is_a_finding) {
  ws::validation_report rep;
  auto start = std::chrono::steady_clock::now();
  ws::check_command(root, "sleep 30", 300ms, rep);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  expect_only_finding(rep, {.says = "timed out"});
}

// The command runs code a model wrote (`npm test`): it must not see our API
// keys or tokens, nor the user's home.
TEST_F(validators, command_sees_a_minimal_environment_without_keys) {
  ::setenv("OPENAI_API_KEY", "sk-secret-for-the-test", 1);
  ::setenv("CODEHIVE_TEST_TOKEN_X", "tok-secret", 1);
  ::setenv("ANTHROPIC_KEY", "ak-secret", 1);
  ws::validation_report rep;
  ws::check_command(root, "env > seen.env; pwd > seen.pwd", 10s, rep);
  EXPECT_TRUE(rep.clean()) << describe(rep);
  auto env = get(root / "seen.env");
  EXPECT_EQ(env.find("sk-secret"), std::string::npos) << env;
  EXPECT_EQ(env.find("OPENAI_API_KEY"), std::string::npos) << env;
  EXPECT_EQ(env.find("tok-secret"), std::string::npos) << env;
  EXPECT_EQ(env.find("ak-secret"), std::string::npos) << env;
  EXPECT_NE(env.find("PATH="), std::string::npos) << env;
  EXPECT_NE(env.find("LANG="), std::string::npos) << env;
  EXPECT_NE(env.find("TERM="), std::string::npos) << env;
  // HOME is a scratch folder: neither the user's home nor the output folder.
  auto home_at = env.find("HOME=");
  ASSERT_NE(home_at, std::string::npos) << env;
  auto home = env.substr(home_at + 5, env.find('\n', home_at) - home_at - 5);
  if (const char* ours = std::getenv("HOME")) {
    EXPECT_NE(home, ours);
  }
  EXPECT_EQ(home.find(std::filesystem::canonical(root).string()), std::string::npos) << home;
  EXPECT_EQ(get(root / "seen.pwd"), std::filesystem::canonical(root).string() + "\n");

  // A key the config names is passed on, and only that one.
  ws::check_command(root, "env > seen.env", 10s, rep, {"OPENAI_API_KEY"});
  env = get(root / "seen.env");
  EXPECT_NE(env.find("OPENAI_API_KEY=sk-secret-for-the-test"), std::string::npos) << env;
  EXPECT_EQ(env.find("tok-secret"), std::string::npos) << env;
  ::unsetenv("OPENAI_API_KEY");
  ::unsetenv("CODEHIVE_TEST_TOKEN_X");
  ::unsetenv("ANTHROPIC_KEY");
}

// Issue 16: the command writes only inside the output folder and its scratch
// home (Landlock); the rest of the machine it may read, not change. The
// control: the same command without the sandbox writes where it likes.
TEST_F(validators, command_cannot_write_outside_the_output_folder) {
  auto outside = std::filesystem::temp_directory_path()
                 / ("codehive-outside-" + std::to_string(::getpid()));
  std::filesystem::create_directories(outside);
  std::ofstream{outside / "precious.txt"} << "keep me\n";
  auto cmd = "echo written > inside.txt; echo x > " + (outside / "new.txt").string() + "; rm -f "
             + (outside / "precious.txt").string() + "; (echo h > \"$HOME/cache\" && echo yes > home_ok.txt); cat /etc/hostname > read.txt";
  auto plain = ws::run_shell(cmd, root, 10s);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(std::filesystem::exists(outside / "new.txt")) << "the control could not write outside: " << plain->err;
  std::filesystem::remove(outside / "new.txt");
  std::ofstream{outside / "precious.txt"} << "keep me\n";
  if (auto why = ws::write_confinement_unavailable(); !why.empty()) {
    std::filesystem::remove_all(outside);
    GTEST_SKIP() << "no Landlock on this machine: " << why;
  }
  ws::validation_report rep;
  ws::check_command(root, cmd, 10s, rep);
  EXPECT_EQ(get(root / "inside.txt"), "written\n") << describe(rep);
  EXPECT_FALSE(std::filesystem::exists(outside / "new.txt")) << "the command wrote outside the output folder";
  EXPECT_EQ(get(outside / "precious.txt"), "keep me\n") << "the command deleted a file outside the output folder";
  EXPECT_TRUE(std::filesystem::exists(root / "read.txt")) << "reading the system was refused too";
  EXPECT_EQ(get(root / "home_ok.txt"), "yes\n") << "the scratch home is not writable";
  std::filesystem::remove_all(outside);
}

// Where the machine allows a network namespace, the command cannot reach
// even a listener on our loopback.
TEST_F(validators, command_cannot_connect_to_a_loopback_listener) {
  if (!ws::find_on_path("bash")) GTEST_SKIP() << "bash (for /dev/tcp) not installed";
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  auto connect_cmd = "bash -c 'echo hello > /dev/tcp/127.0.0.1/" + std::to_string(ntohs(a.sin_port)) + "'";
  // The control: without the sandbox the same command connects.
  auto plain = ws::run_shell(connect_cmd, root, 10s);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(plain->success()) << plain->err;
  int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(c, 0);
  ::close(c);

  if (auto why = ws::network_isolation_unavailable(); !why.empty()) {
    ::close(listener);
    GTEST_SKIP() << "no network namespace on this machine: " << why;
  }
  ws::validation_report rep;
  ws::check_command(root, connect_cmd, 10s, rep);
  ASSERT_EQ(rep.findings.size(), 1u) << "the command connected";
  EXPECT_EQ(rep.findings[0].check, "command");
  ::fcntl(listener, F_SETFL, O_NONBLOCK);
  EXPECT_LT(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), 0) << "a connection arrived";
  ::close(listener);
  // The command's own loopback is up (a test suite may serve and call itself
  // on 127.0.0.1): connecting there is refused, not "Network is unreachable".
  auto own = ws::run_sandboxed_shell(connect_cmd, root, 10s);
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->success());
  EXPECT_NE(own->err.find("refused"), std::string::npos) << own->err;
}

// --- everything together ------------------------------------------------------------

TEST_F(validators, validate_output_runs_the_enabled_checks_over_all_files) {
  put(root / "index.html", "<script src=\"app.js\"></script><button onclick=\"go()\">x</button>");
  put(root / "app.js", "function go() {}\n");
  put(root / "data.json", "{\"a\": }");
  put(root / "README.md", "# hi");
  ws::validator_options o;
  o.node = "definitely-not-node-xyz";
  o.command = "exit 1";
  o.browser = false;
  auto rep = ws::validate_output(root, o);
  EXPECT_EQ(rep.checked_files, (std::vector<std::string>{"app.js", "data.json", "index.html"}));
  ASSERT_EQ(rep.findings.size(), 2u) << describe(rep);
  EXPECT_EQ(rep.findings[0].check, "json");
  EXPECT_EQ(rep.findings[1].check, "command");
  ASSERT_EQ(rep.skipped.size(), 1u);
  o.command.clear();
  o.files = {"index.html"};
  EXPECT_TRUE(ws::validate_output(root, o).clean());
}

TEST_F(validators, a_changed_script_rechecks_the_pages_and_deleted_files_are_ignored) {
  put(root / "index.html", "<script src=\"app.js\"></script><button onclick=\"go()\">x</button>");
  put(root / "app.js", "function renamed() {}\n");
  ws::validator_options o;
  o.node = "definitely-not-node-xyz";
  o.browser = false;
  o.files = {"app.js", "gone.json"};
  auto rep = ws::validate_output(root, o);
  EXPECT_EQ(rep.checked_files, (std::vector<std::string>{"app.js", "index.html"}));
  expect_only_finding(rep, {.check = "html_handler", .file = "index.html"});
}
