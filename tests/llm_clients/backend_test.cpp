// Behaviour both backends share, run against the real llm-sim for each API.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <initializer_list>
#include <thread>
#include <vector>

#include "llm/context_guard.hpp"
#include "llm/usage_ledger.hpp"
#include "tests/llm_clients/fixture.hpp"

using namespace codehive::llm;
using namespace codehive::llm::testing;
using std::chrono::milliseconds;

namespace {

const char* kSchema = R"({"type":"object","properties":{"files":{"type":"array","items":{"type":"string"}}},"required":["files"]})";

// One rule per behaviour, selected by role.
const char* kRules = R"([
  {"name":"plain","match":{"role":"coder"},"response":{"content":"hello world","prompt_tokens":12,"completion_tokens":34}},
  {"name":"json","match":{"role":"planner"},"response":{"content":"Here you go:\n```json\n{\"files\":[\"index.html\"]}\n```\nDone."}},
  {"name":"wrongjson","match":{"role":"reviewer"},"response":{"json":{"tasks":[]}}},
  {"name":"prose","match":{"role":"fixer"},"response":{"content":"I cannot do that, sorry."}},
  {"name":"r429","match":{"role":"r429"},"responses":[{"fault":"429","retry_after_s":1},{"content":"after 429"}]},
  {"name":"r500","match":{"role":"r500"},"responses":[{"fault":"500"},{"content":"after 500"}]},
  {"name":"a500","match":{"role":"a500"},"response":{"fault":"500"}},
  {"name":"a503","match":{"role":"a503"},"response":{"fault":"503"}},
  {"name":"f404","match":{"role":"f404"},"response":{"fault":"404"}},
  {"name":"f400","match":{"role":"f400"},"response":{"fault":"400"}},
  {"name":"hang","match":{"role":"hang"},"response":{"fault":"hang","hang_ms":3000}},
  {"name":"malformed","match":{"role":"malformed"},"response":{"fault":"malformed"}},
  {"name":"truncated","match":{"role":"truncated"},"response":{"fault":"truncated"}},
  {"name":"empty","match":{"role":"empty"},"response":{"fault":"empty"}},
  {"name":"slow","match":{"role":"slow"},"latency":{"ttft_ms":30,"tokens_per_s":20000},"response":{"content":"slow answer"}},
  {"name":"first","match":{"role":"first"},"latency":{"ttft_ms":400,"tokens_per_s":50},"response":{"content":"one two three four five six seven eight"}}
])";

class Backend : public ::testing::TestWithParam<api> {
 protected:
  void SetUp() override { sim_.emplace(sim_process::start(scenario(kRules))); }
  void TearDown() override {
    client_.reset();
    loop_.shutdown();
  }

  endpoint_config cfg() { return config_for(GetParam(), sim_->base_url()); }
  client& make(endpoint_config c) {
    client_ = make_client(loop_, std::move(c));
    return *client_;
  }
  client& make() { return make(cfg()); }
  sim_process& sim() { return *sim_; }

  /// Each call of the `role` rule, streamed or not as `streams` says in turn, fails with
  /// `code` (after `attempts` attempts, unless 0). Call through ASSERT_NO_FATAL_FAILURE.
  static void expect_each_call_fails(client& c, const std::string& role,
                                     std::initializer_list<bool> streams, errc code,
                                     int attempts = 0) {
    for (bool stream : streams) {
      auto r = chat_sync(c, request(role, "", "x", stream));
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.err().code, code) << (stream ? "stream: " : "plain: ") << r.err().describe();
      if (attempts != 0)
        EXPECT_EQ(r.err().attempts, attempts);
    }
  }

  http_loop loop_;
  std::optional<sim_process> sim_;
  std::shared_ptr<client> client_;
};

std::string api_name(const ::testing::TestParamInfo<api>& p) { return p.param == api::ollama ? "ollama" : "openai"; }

}  // namespace

TEST_P(Backend, NonStreamingSuccessReadsUsageAndCost) {
  auto c = cfg();
  c.price_prompt_per_mtok = 2.0;
  c.price_completion_per_mtok = 10.0;
  auto r = chat_sync(make(c), request("coder", "index.html", "write it"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, "hello world");
  EXPECT_EQ(r->finish_reason, "stop");
  EXPECT_EQ(r->use.prompt_tokens, 12);
  EXPECT_EQ(r->use.completion_tokens, 34);
  EXPECT_EQ(r->use.role, "coder");
  EXPECT_EQ(r->use.model, kModel);
  EXPECT_EQ(r->use.attempts, 1);
  EXPECT_GT(r->use.tokens_per_s, 0);
  EXPECT_DOUBLE_EQ(r->use.cost_usd, 12 * 2.0 / 1e6 + 34 * 10.0 / 1e6);
  EXPECT_EQ(sim().count_role_path("coder", "index.html"), 1);
  EXPECT_EQ(sim().total(), 1);
}

TEST_P(Backend, StreamingSuccessAssemblesContentAndReadsUsage) {
  auto r = chat_sync(make(), request("coder", "js/app.js", "write it", true));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, "hello world");
  EXPECT_EQ(r->finish_reason, "stop");
  EXPECT_EQ(r->use.prompt_tokens, 12);
  EXPECT_EQ(r->use.completion_tokens, 34);
  EXPECT_EQ(sim().count_role_path("coder", "js/app.js"), 1);
}

// The simulator sends nothing before its time to first token (400 ms here),
// then generates at 50 tokens/s: the measured time to first token is at
// least the simulator's and within the call's whole time, streamed or not.
TEST_P(Backend, TimeToFirstTokenIsTakenFromTheWireStreamedOrNot) {
  auto& c = make();
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "streamed" : "not streamed");
    auto r = chat_sync(c, request("first", "a.js", "x", stream));
    ASSERT_TRUE(r.ok()) << r.err().describe();
    ASSERT_TRUE(r->use.first_token.has_value());
    EXPECT_GE(r->use.first_token->count(), 400);
    EXPECT_LE(*r->use.first_token, r->use.latency);
  }
}

TEST_P(Backend, RoleAndPathHeadersReachTheServer) {
  auto& c = make();
  ASSERT_TRUE(chat_sync(c, request("coder", "css/style.css", "x")).ok());
  ASSERT_TRUE(chat_sync(c, request("coder", "", "x")).ok());
  EXPECT_EQ(sim().count_role_path("coder", "css/style.css"), 1);
  EXPECT_EQ(sim().count_path("css/style.css"), 1);
  EXPECT_EQ(sim().count_role("coder"), 2);
  EXPECT_EQ(sim().count_rule("plain"), 2);
}

TEST_P(Backend, SchemaRequestedExtractedAndValidated) {
  auto& c = make();
  for (bool stream : {false, true}) {
    auto req = request("planner", "", "plan", stream);
    req.json_schema = kSchema;
    auto r = chat_sync(c, req);
    ASSERT_TRUE(r.ok()) << r.err().describe();
    EXPECT_EQ(r->content, R"({"files":["index.html"]})");
  }
  // Valid JSON, wrong shape: schema_mismatch, asked once (no transport retry).
  auto req = request("reviewer", "", "review");
  req.json_schema = kSchema;
  auto r = chat_sync(c, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::schema_mismatch);
  EXPECT_EQ(r.err().attempts, 1);
  EXPECT_EQ(sim().count_rule("wrongjson"), 1);
  // Prose, no JSON at all: bad_json.
  req.role = "fixer";
  r = chat_sync(c, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::bad_json);
  EXPECT_EQ(sim().count_rule("prose"), 1);
}

TEST_P(Backend, BadSchemaIsBadConfigWithoutTraffic) {
  auto req = request("planner", "", "plan");
  req.json_schema = "{not a schema";
  auto r = chat_sync(make(), req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::bad_config);
  EXPECT_EQ(sim().total(), 0);
}

TEST_P(Backend, Http429IsRetriedAfterRetryAfter) {
  auto c = cfg();
  c.backoff_base = milliseconds{1};
  c.backoff_max = milliseconds{5000};
  auto t0 = std::chrono::steady_clock::now();
  auto r = chat_sync(make(c), request("r429", "a.js", "x"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, "after 429");
  EXPECT_EQ(r->use.attempts, 2);
  EXPECT_GE(ms_since(t0), 950);  // Retry-After: 1 beats a 1 ms backoff
  EXPECT_EQ(sim().count_fault("429"), 1);
  EXPECT_EQ(sim().count_rule("r429"), 2);
}

TEST_P(Backend, Http500ThenSuccessIsRetried) {
  auto r = chat_sync(make(), request("r500", "a.js", "x"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, "after 500");
  EXPECT_EQ(r->use.attempts, 2);
  EXPECT_EQ(sim().count_rule("r500"), 2);
}

TEST_P(Backend, Http5xxAlwaysGivesUpAfterMaxRetries) {
  auto c = cfg();
  c.max_retries = 2;
  auto& cl = make(c);
  auto r = chat_sync(cl, request("a500", "a.js", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::http_status);
  EXPECT_EQ(r.err().http_status, 500);
  EXPECT_EQ(r.err().attempts, 3);
  EXPECT_NE(r.err().message.find("simulated fault"), std::string::npos) << r.err().message;
  EXPECT_EQ(sim().count_rule("a500"), 3);
  r = chat_sync(cl, request("a503", "a.js", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().http_status, 503);
  EXPECT_EQ(sim().count_rule("a503"), 3);
}

TEST_P(Backend, Http404And400AreNotRetried) {
  auto& c = make();
  for (const char* role : {"f404", "f400"}) {
    auto r = chat_sync(c, request(role, "a.js", "x"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, errc::http_status);
    EXPECT_EQ(r.err().http_status, role == std::string("f404") ? 404 : 400);
    EXPECT_EQ(r.err().attempts, 1);
    EXPECT_EQ(sim().count_rule(role), 1);
  }
}

TEST_P(Backend, UnknownModelIs404WithTheServersText) {
  auto c = cfg();
  c.spec.model = "nope:1b";
  auto r = chat_sync(make(c), request("coder", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().http_status, 404);
  EXPECT_NE(r.err().message.find("not found"), std::string::npos) << r.err().message;
  EXPECT_EQ(r.err().attempts, 1);
}

TEST_P(Backend, HangIsTimeoutAndRetried) {
  auto c = cfg();
  c.max_retries = 1;
  auto req = request("hang", "", "x");
  req.timeout = milliseconds{150};
  auto t0 = std::chrono::steady_clock::now();
  auto r = chat_sync(make(c), req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::timeout);
  EXPECT_EQ(r.err().attempts, 2);
  EXPECT_GE(ms_since(t0), 290);
  EXPECT_LT(ms_since(t0), 2500);
  // The second attempt reaches the rule unless a loaded machine delays it past 150 ms.
  EXPECT_GE(sim().count_rule("hang"), 1);
  EXPECT_LE(sim().count_rule("hang"), 2);
}

TEST_P(Backend, MalformedIsBadJsonNotRetried) {
  ASSERT_NO_FATAL_FAILURE(
    expect_each_call_fails(make(), "malformed", {false, true}, errc::bad_json, 1));
  EXPECT_EQ(sim().count_rule("malformed"), 2);
}

TEST_P(Backend, TruncatedIsTruncated) {
  ASSERT_NO_FATAL_FAILURE(
    expect_each_call_fails(make(), "truncated", {true, false}, errc::truncated));
  EXPECT_EQ(sim().count_rule("truncated"), 2);
}

TEST_P(Backend, EmptyContentIsEmptyAnswer) {
  expect_each_call_fails(make(), "empty", {false, true}, errc::empty_answer);
}

TEST_P(Backend, ConnectionRefusedIsUnreachableAfterRetries) {
  auto c = config_for(GetParam(), "http://127.0.0.1:" + std::to_string(closed_port()));
  c.max_retries = 1;
  auto r = chat_sync(make(c), request("coder", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::unreachable);
  EXPECT_EQ(r.err().attempts, 2);
  auto h = health_sync(*client_);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.err().code, errc::unreachable);
}

TEST_P(Backend, ContextGuardRefusesWithoutTraffic) {
  auto c = cfg();
  c.context_tokens = 256;
  auto req = request("coder", "big.js", std::string(20000, 'x'));
  ASSERT_FALSE(check_context(req, 256).ok());
  std::optional<errc> seen;
  usage_ledger ledger;
  c.on_usage = ledger.observer();
  auto r = chat_sync(make(c), req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::context_overflow);
  EXPECT_EQ(sim().total(), 0);
  auto s = ledger.snapshot();
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(s.records[0].outcome, errc::context_overflow);
}

TEST_P(Backend, BudgetGateRefusesWithoutTraffic) {
  auto c = cfg();
  std::atomic<std::int64_t> estimate{-1};
  std::atomic<bool> allow{false};
  c.gate = [&](const chat_request& req, std::int64_t est) {
    EXPECT_EQ(req.role, "coder");
    estimate = est;
    return allow.load();
  };
  auto& cl = make(c);
  auto r = chat_sync(cl, request("coder", "", "please write a file"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::budget_refused);
  EXPECT_GT(estimate.load(), 0);
  EXPECT_EQ(sim().total(), 0);
  allow = true;
  EXPECT_TRUE(chat_sync(cl, request("coder", "", "please write a file")).ok());
  EXPECT_EQ(sim().total(), 1);
}

TEST_P(Backend, HealthOkAndModelMissing) {
  auto h = health_sync(make());
  ASSERT_TRUE(h.ok()) << h.err().describe();
  EXPECT_TRUE(h->reachable);
  EXPECT_TRUE(h->model_present);
  EXPECT_EQ(h->models, (std::vector<std::string>{"qwen2.5-coder:7b", "llama3:latest"}));
  auto c = cfg();
  c.spec.model = "llama3";  // ":latest" implied
  h = health_sync(make(c));
  ASSERT_TRUE(h.ok()) << h.err().describe();
  c.spec.model = "qwen2.5-coder:14b";
  h = health_sync(make(c));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.err().code, errc::model_missing);
  EXPECT_EQ(sim().total(), 0);  // health checks are not chat requests
}

TEST_P(Backend, ManyConcurrentCallsRespectTheInFlightLimit) {
  auto c = cfg();
  c.max_in_flight = 3;
  usage_ledger ledger;
  c.on_usage = ledger.observer();
  auto& cl = make(c);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 5; ++t)
    threads.emplace_back([&, t] {
      std::vector<std::future<result<chat_response>>> fs;
      for (int i = 0; i < 10; ++i) {
        auto p = std::make_shared<std::promise<result<chat_response>>>();
        fs.push_back(p->get_future());
        cl.chat(request("slow", "f" + std::to_string(t * 10 + i) + ".js", "x"),
                [p](result<chat_response> r) { p->set_value(std::move(r)); });
      }
      for (auto& f : fs)
        if (auto r = f.get(); r.ok() && r->content == "slow answer") ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(sim().count_rule("slow"), 50);
  EXPECT_LE(sim().max_in_flight(), 3);
  auto st = loop_.stats(cl.config().spec.base_url);
  EXPECT_EQ(st.max_in_flight_seen, 3);  // 50 queued at once, each >= 30 ms
  EXPECT_EQ(st.completed, 50u);
  auto s = ledger.snapshot();
  EXPECT_EQ(s.total.calls, 50);
  EXPECT_EQ(s.by_role["slow"].failures, 0);
  EXPECT_EQ(s.by_model[kModel].calls, 50);
}

TEST_P(Backend, ShutdownDuringBackoffCompletesWithCancelled) {
  auto c = cfg();
  c.backoff_base = std::chrono::milliseconds{60000};
  c.backoff_max = std::chrono::milliseconds{60000};
  auto loop = std::make_unique<http_loop>();
  auto cl = make_client(*loop, c);
  std::promise<result<chat_response>> p;
  cl->chat(request("a500", "", "x"), [&](result<chat_response> r) { p.set_value(std::move(r)); });
  for (int i = 0; i < 200 && sim().count_rule("a500") < 1; ++i) std::this_thread::sleep_for(milliseconds{10});
  std::this_thread::sleep_for(milliseconds{50});
  auto t0 = std::chrono::steady_clock::now();
  loop->shutdown();
  EXPECT_LT(ms_since(t0), 2000);
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::cancelled);
  EXPECT_EQ(sim().count_rule("a500"), 1);
}

INSTANTIATE_TEST_SUITE_P(BothApis, Backend, ::testing::Values(api::ollama, api::openai), api_name);
