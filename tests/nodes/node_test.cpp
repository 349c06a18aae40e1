// The node layer without models: token handling, address parsing, and the
// registry over a real loopback connection between two actor systems in this
// process (the wire serialization of join_request / join_reply / worker_offer
// / submit_run, strong_actor_ptr fields included).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "actors/live_view.hpp"
#include "nodes/cluster.hpp"
#include "nodes/progress_line.hpp"
#include "nodes/registry.hpp"

using namespace codehive;

namespace {

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
  auto p = std::filesystem::temp_directory_path()
           / ("codehive-node-test-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream{p} << content;
  return p;
}

}  // namespace

TEST(NodeToken, EqualOnlyWhenSameBytesAndLength) {
  EXPECT_TRUE(tokens_equal("s3cret", "s3cret"));
  EXPECT_TRUE(tokens_equal("", ""));
  EXPECT_FALSE(tokens_equal("s3cret", "s3creT"));
  EXPECT_FALSE(tokens_equal("s3cret", "X3cret"));
  EXPECT_FALSE(tokens_equal("s3cret", "s3cret "));
  EXPECT_FALSE(tokens_equal("s3cret", ""));
  std::string a(64, 'a'), b(64, 'a');
  b[63] = 'b';
  EXPECT_FALSE(tokens_equal(a, b));
  b[63] = 'a';
  EXPECT_TRUE(tokens_equal(a, b));
}

TEST(NodeToken, LoadsFlagFileThenEnvThenConfig) {
  ::unsetenv("CODEHIVE_JOIN_TOKEN");
  cluster_settings s;
  std::string err;
  EXPECT_FALSE(load_token("", s, err));
  EXPECT_EQ(err, token_required);
  auto flag = temp_file("flag", "from-flag \n\n");
  auto conf = temp_file("conf", "from-config\n");
  s.token_file = conf.string();
  EXPECT_EQ(load_token("", s, err).value_or(""), "from-config");
  ::setenv("CODEHIVE_JOIN_TOKEN", "from-env\n", 1);
  EXPECT_EQ(load_token("", s, err).value_or(""), "from-env");
  EXPECT_EQ(load_token(flag.string(), s, err).value_or(""), "from-flag");
  ::unsetenv("CODEHIVE_JOIN_TOKEN");
  auto empty = temp_file("empty", " \n");
  EXPECT_FALSE(load_token(empty.string(), s, err));
  EXPECT_NE(err.find("empty"), std::string::npos);
  EXPECT_FALSE(load_token("/nonexistent/token", s, err));
  EXPECT_NE(err.find("cannot read"), std::string::npos);
  for (auto& p : {flag, conf, empty})
    std::filesystem::remove(p);
}

namespace {

/// Captures what the default logger writes, with codehive's formatter.
struct log_capture {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  log_capture() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_formatter(make_log_formatter());
    spdlog::set_default_logger(logger);
  }
  ~log_capture() { spdlog::set_default_logger(previous); }
};

}  // namespace

// The token lets anyone who reads it join workers and submit runs: a file
// group or others can read is accepted, with a warning that says how to fix it.
TEST(NodeToken, AFileOthersCanReadIsLoadedWithAWarning) {
  ::unsetenv("CODEHIVE_JOIN_TOKEN");
  auto file = temp_file("perm", "s3cret\n");
  cluster_settings s;
  std::string err;
  ::chmod(file.c_str(), 0644);
  {
    log_capture log;
    EXPECT_EQ(load_token(file.string(), s, err).value_or(""), "s3cret");
    auto line = log.text.str();
    EXPECT_NE(line.find("warning"), std::string::npos) << line;
    EXPECT_NE(line.find("readable by everyone (mode 0644)"), std::string::npos) << line;
    EXPECT_NE(line.find("chmod 600"), std::string::npos) << line;
  }
  ::chmod(file.c_str(), 0640);
  EXPECT_NE(token_file_warning(file.string()).value_or("").find("its group"), std::string::npos);
  ::chmod(file.c_str(), 0600);
  {
    log_capture log;
    EXPECT_EQ(load_token(file.string(), s, err).value_or(""), "s3cret");
    EXPECT_EQ(log.text.str(), "");
  }
  EXPECT_FALSE(token_file_warning(file.string()));
  std::filesystem::remove(file);
}

// An escape sequence in a model's answer must not reach the terminal through
// a log line: control characters come out escaped, and one event stays one line.
TEST(NodeLogging, ControlCharactersInMessagesAreEscaped) {
  log_capture log;
  spdlog::info("answer: {}", "\x1b[31mred\x1b[0m\nsecond line\r\x07 tab\there \xc2\x9b" "2J caf\xc3\xa9");
  auto line = log.text.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_EQ(line.find('\x07'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per event: " << line;
  EXPECT_NE(line.find(" info answer: \\x1b[31mred\\x1b[0m\\nsecond line\\r\\x07 tab\there \\u009b2J caf\xc3\xa9"),
            std::string::npos)
    << line;
  EXPECT_EQ(escape_control_characters("plain text, caf\xc3\xa9"), "plain text, caf\xc3\xa9");
}

TEST(NodeAddress, ParsesHostPort) {
  std::string err;
  auto a = parse_host_port(":7300", "127.0.0.1", false, err);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7300);
  auto b = parse_host_port("10.0.0.2:0", "127.0.0.1", true, err);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "10.0.0.2");
  EXPECT_EQ(b->port, 0);
  EXPECT_FALSE(parse_host_port("10.0.0.2:0", "127.0.0.1", false, err));
  EXPECT_FALSE(parse_host_port("nohost", "127.0.0.1", true, err));
  EXPECT_FALSE(parse_host_port("h:70000", "127.0.0.1", true, err));
  EXPECT_FALSE(parse_host_port("h:7x", "127.0.0.1", true, err));
  auto c = parse_host_port("[::1]:80", "127.0.0.1", false, err);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
}

namespace {

struct fake_planner_state {
  static inline const char* name = "fake-planner";
};

/// Records the offers it gets; answers a run_request once an offer is in.
planner_actor::behavior_type fake_planner(planner_actor::stateful_pointer<fake_planner_state>,
                                          std::shared_ptr<std::promise<msg::worker_offer>> got) {
  auto first = std::make_shared<bool>(true);
  return {
    [](msg::run_request& r) {
      msg::run_result res;
      res.run_id = r.run_id;
      res.state = msg::run_outcome::done;
      res.exit_code = 0;
      res.message = "fake";
      return res;
    },
    [](msg::llm_reply&) {},
    [](atom::deadline) {},
    [](atom::live) {},
    [](atom::exports) {},
    [](atom::cancel) {},
    [](msg::plan_decision&) { return msg::plan_verdict{}; },
    [](msg::worker_lost&) {},
    [got, first](msg::worker_offer& o) {
      if (*first) {
        *first = false;
        got->set_value(o);
      }
    },
  };
}

struct node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  explicit node(const char* app_id = nullptr) {
    cluster_settings s;
    s.heartbeat_interval_ms = 200;
    s.connection_timeout_ms = 2000;
    configure_node(cfg, s);
    if (app_id != nullptr)
      cfg.set("middleman.app-identifiers", std::vector<std::string>{app_id});
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// The stand-in coders of the tests; stopped at the end (a system waits for
/// its actors before it shuts down).
std::vector<coder_actor> dummies;

void stop_dummies() {
  for (auto& d : dummies)
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  dummies.clear();
}

msg::join_request make_join(caf::actor_system& sys, const std::string& token) {
  msg::join_request j;
  j.protocol = msg::protocol_version;
  j.token = token;
  j.offer.node = "w1";
  j.offer.model = "ollama://127.0.0.1:1/m";
  // A coder that answers nothing: the registry only monitors and forwards it.
  auto dummy = sys.spawn([]() -> coder_actor::behavior_type {
    return {[](msg::code_request&) { return msg::file_edit{}; }, [](msg::llm_reply&) {}};
  });
  j.offer.coders.push_back(dummy);
  dummies.push_back(dummy);
  return j;
}

/// A start_run that starts every submitted run as "run-1" on the planner
/// `spawn_planner` returns (the run stops by killing it).
run_starter start_run_on(std::function<planner_actor()> spawn_planner) {
  return [spawn_planner](const msg::submit_run& sub, progress_actor, const std::set<std::string>&) {
    start_outcome out;
    out.kind = start_outcome::started;
    out.run_id = "run-1";
    out.planner = spawn_planner();
    out.request = sub.run;
    out.request.run_id = "run-1";
    out.stop = [p = out.planner] { caf::anon_send_exit(p, caf::exit_reason::user_shutdown); };
    return out;
  };
}

/// A registry spawned and published on a loopback port of one node, and
/// another node's handle to it.
struct registry_link {
  registry_actor reg;
  caf::expected<registry_actor> remote{caf::error{}};
};

void link_registry(node& coord, node& worker, const registry_settings& rs, registry_link& out) {
  out.reg = spawn_registry(*coord.sys, rs);
  auto port = publish_registry(*coord.sys, out.reg, host_port{"127.0.0.1", 0}, false);
  ASSERT_TRUE(port) << coord.sys->render(port.error());
  out.remote = connect_registry(*worker.sys, host_port{"127.0.0.1", *port}, false);
  ASSERT_TRUE(out.remote) << worker.sys->render(out.remote.error());
}

msg::join_reply ask(caf::actor_system& sys, const registry_actor& reg, msg::join_request j) {
  msg::join_reply out;
  caf::scoped_actor self{sys};
  self->request(reg, std::chrono::seconds(10), std::move(j))
    .receive([&](msg::join_reply& r) { out = r; },
             [&](caf::error& e) { out.reason = "error: " + sys.render(e); });
  return out;
}

TEST(NodeProgress, TheLineShowsTheCodersSpeedOnceKnown) {
  msg::progress_event ev;
  ev.kind = msg::progress_kind::task_done;
  ev.path = "app.js";
  ev.tasks_done = 3;
  ev.tasks_total = 8;
  EXPECT_EQ(progress_line::format(ev).find("tok/s"), std::string::npos) << progress_line::format(ev);
  ev.coder_tokens_per_s = 38.4;
  EXPECT_NE(progress_line::format(ev).find("| 38 tok/s per coder | task_done app.js"),
            std::string::npos)
    << progress_line::format(ev);
}

}  // namespace

TEST(NodeRegistry, JoinOverLoopbackChecksTokenAndProtocol) {
  auto offer_seen = std::make_shared<std::promise<msg::worker_offer>>();
  auto offer_future = offer_seen->get_future();
  node coord;
  registry_settings rs;
  rs.token = "s3cret";
  rs.name = "test-coordinator";
  rs.start_run = start_run_on([&] { return coord.sys->spawn(fake_planner, offer_seen); });
  node worker;
  registry_link link;
  ASSERT_NO_FATAL_FAILURE(link_registry(coord, worker, rs, link));
  auto& reg = link.reg;
  auto& remote = link.remote;

  auto wrong = ask(*worker.sys, *remote, make_join(*worker.sys, "s3creX"));
  EXPECT_FALSE(wrong.accepted);
  EXPECT_EQ(wrong.reason, "wrong token");

  auto old = make_join(*worker.sys, "s3cret");
  old.protocol = "codehive/0";
  auto mismatch = ask(*worker.sys, *remote, old);
  EXPECT_FALSE(mismatch.accepted);
  EXPECT_NE(mismatch.reason.find("protocol mismatch"), std::string::npos) << mismatch.reason;

  auto ok = ask(*worker.sys, *remote, make_join(*worker.sys, "s3cret"));
  EXPECT_TRUE(ok.accepted) << ok.reason;
  EXPECT_EQ(ok.coordinator, "test-coordinator");

  // A client run: wrong token refused; right token runs, and the planner of
  // the run gets the worker's offer (its coder a proxy of the worker's actor).
  caf::scoped_actor client{*worker.sys};
  msg::submit_run sub;
  sub.token = "nope";
  sub.run.request = "x";
  sub.run.out_dir = "/tmp/x";
  msg::run_result res;
  client->request(*remote, std::chrono::seconds(10), sub)
    .receive([&](msg::run_result& r) { res = r; }, [&](caf::error&) {});
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_EQ(res.state, msg::run_outcome::refused);
  sub.token = "s3cret";
  client->request(*remote, std::chrono::seconds(10), sub)
    .receive([&](msg::run_result& r) { res = r; }, [&](caf::error&) {});
  EXPECT_EQ(res.state, msg::run_outcome::done);
  EXPECT_EQ(res.run_id, "run-1");
  ASSERT_EQ(offer_future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto offer = offer_future.get();
  EXPECT_EQ(offer.node, "w1");
  ASSERT_EQ(offer.coders.size(), 1u);
  EXPECT_TRUE(offer.coders[0]);
  EXPECT_EQ(offer.coders[0]->node(), worker.sys->node());
  remote = caf::error{};
  offer = {};
  stop_dummies();
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

namespace {

/// What a holding planner handled, in order: "exports" or "lost:NODE:REASON".
struct handled_log {
  std::mutex mu;
  std::vector<std::string> items;
  void add(std::string s) {
    std::lock_guard lock{mu};
    items.push_back(std::move(s));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock{mu};
    return items;
  }
};

struct holding_planner_state {
  static inline const char* name = "holding-planner";
};

/// A planner whose run never ends and whose first message (the run request)
/// blocks its thread until `go` is set: what queues meanwhile shows the
/// order in which it is handled afterwards.
planner_actor::behavior_type holding_planner(planner_actor::stateful_pointer<holding_planner_state> self,
                                             std::shared_ptr<std::promise<void>> started,
                                             std::shared_future<void> go,
                                             std::shared_ptr<handled_log> log) {
  return {
    [self, started, go](msg::run_request&) {
      started->set_value();
      go.wait();
      return self->make_response_promise<msg::run_result>();
    },
    [](msg::llm_reply&) {},
    [](atom::deadline) {},
    [](atom::live) {},
    [log](atom::exports) { log->add("exports"); },
    [](atom::cancel) {},
    [](msg::plan_decision&) { return msg::plan_verdict{}; },
    [](msg::worker_offer&) {},
    [log](msg::worker_lost& w) { log->add("lost:" + w.node + ":" + w.reason); },
  };
}

}  // namespace

// The registry tells a running planner of a lost worker with high priority:
// ahead of the replies (here: 50 other messages) already in its mailbox, not
// behind them as the slots' own down messages are.
TEST(NodeRegistry, ALostWorkerReachesTheRunningPlannerAheadOfItsQueuedMessages) {
  node coord;
  auto started = std::make_shared<std::promise<void>>();
  auto started_future = started->get_future();
  std::promise<void> go;
  std::shared_future<void> go_future = go.get_future().share();
  auto log = std::make_shared<handled_log>();
  planner_actor planner;
  registry_settings rs;
  rs.token = "s3cret";
  rs.board = std::make_shared<live_board>();
  rs.start_run = start_run_on([&] {
    return planner = coord.sys->spawn<caf::detached>(holding_planner, started, go_future, log);
  });
  node worker;
  registry_link link;
  ASSERT_NO_FATAL_FAILURE(link_registry(coord, worker, rs, link));
  auto& reg = link.reg;
  auto& remote = link.remote;
  ASSERT_TRUE(ask(*worker.sys, *remote, make_join(*worker.sys, "s3cret")).accepted);

  msg::submit_run sub;
  sub.token = "s3cret";
  sub.run.request = "x";
  sub.run.out_dir = "/tmp/x";
  caf::anon_send(reg, sub);
  // The planner now blocks in the run request; 50 messages queue behind it.
  ASSERT_EQ(started_future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  for (int i = 0; i < 50; ++i)
    caf::anon_send(planner, atom::exports_v);
  // The worker's coder goes away; wait until the registry has dropped it
  // (its board lists no node), so worker_lost is in the planner's mailbox.
  stop_dummies();
  auto worker_gone = [&] {
    auto v = rs.board->latest();
    return v && v->nodes.empty();
  };
  for (int i = 0; i < 600 && !worker_gone(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(worker_gone()) << "the registry never saw the worker's coder go (60 s)";
  go.set_value();
  for (int i = 0; i < 600 && log->snapshot().size() < 51; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto items = log->snapshot();
  ASSERT_EQ(items.size(), 51u) << "50 exports and one worker_lost (60 s)";
  auto lost = std::find_if(items.begin(), items.end(),
                           [](const std::string& s) { return s.rfind("lost:", 0) == 0; });
  ASSERT_NE(lost, items.end());
  EXPECT_EQ(*lost, "lost:w1:its connection was lost (exit_reason(user_shutdown))");
  // FIFO would put it last (index 50); CAF handles the urgent queue first in
  // each round of a few normal messages.
  EXPECT_LT(lost - items.begin(), 5) << "worker_lost was handled at position " << (lost - items.begin());
  remote = caf::error{};
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST(NodeRegistry, MismatchedAppIdentifierFailsTheHandshake) {
  node coord;
  registry_settings rs;
  rs.token = "s3cret";
  auto reg = spawn_registry(*coord.sys, rs);
  auto port = publish_registry(*coord.sys, reg, host_port{"127.0.0.1", 0}, false);
  ASSERT_TRUE(port);
  node old_worker{"codehive/0"};
  auto remote = connect_registry(*old_worker.sys, host_port{"127.0.0.1", *port}, false);
  EXPECT_FALSE(remote);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}
