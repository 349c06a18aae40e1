#include "llm/http_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/llm_clients/fixture.hpp"

using namespace codehive::llm;
using namespace codehive::llm::testing;
using std::chrono::milliseconds;

namespace {

http_request chat_post(const std::string& base, const std::string& role, bool stream = false) {
  http_request r;
  r.method = "POST";
  r.url = base + "/api/chat";
  r.headers = {{"Content-Type", "application/json"}, {"X-Codehive-Role", role}};
  r.body = std::string(R"({"model":"qwen2.5-coder:7b","messages":[{"role":"user","content":"hi"}],"stream":)") +
           (stream ? "true" : "false") + "}";
  r.timeout = milliseconds{5000};
  return r;
}

/// chat_post through `endpoint`, which lets `max_in_flight` calls run at a time.
http_request limited_post(const std::string& base, const std::string& role,
                          const std::string& endpoint, int max_in_flight) {
  auto r = chat_post(base, role);
  r.endpoint = endpoint;
  r.max_in_flight = max_in_flight;
  return r;
}

std::future<http_result> submit(http_loop& loop, http_request r) {
  auto p = std::make_shared<std::promise<http_result>>();
  auto f = p->get_future();
  loop.submit(std::move(r), [p](http_result res) { p->set_value(std::move(res)); });
  return f;
}

const char* kRules = R"([
  {"name":"slow","match":{"role":"slow"},"latency":{"ttft_ms":60,"tokens_per_s":20000},"response":{"content":"slow ok"}},
  {"name":"hang","match":{"role":"hang"},"response":{"fault":"hang","hang_ms":5000}},
  {"name":"long","match":{"role":"long"},"latency":{"ttft_ms":5,"tokens_per_s":200},
   "response":{"content":"one two three four five six seven eight nine ten eleven twelve thirteen fourteen"}},
  {"name":"any","match":{},"response":{"content":"fine"}}
])";

/// The transfer failed with `code`; call through ASSERT_NO_FATAL_FAILURE.
void expect_failed(const http_result& res, errc code) {
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.err().code, code) << res.err().describe();
}

}  // namespace

TEST(HttpLoop, GetReturnsStatusHeadersAndBody) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  http_request r;
  r.url = sim.base_url() + "/api/tags";
  auto res = submit(loop, r).get();
  ASSERT_TRUE(res.ok()) << res.err().describe();
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("qwen2.5-coder:7b"), std::string::npos);
  ASSERT_TRUE(res->header("Content-Type").has_value());
  EXPECT_NE(res->header("content-type")->find("json"), std::string::npos);
}

TEST(HttpLoop, NonSuccessStatusIsAResponseNotAnError) {
  auto sim = sim_process::start(scenario(R"([{"name":"nf","match":{},"response":{"fault":"404"}}])"));
  http_loop loop;
  auto res = submit(loop, chat_post(sim.base_url(), "coder")).get();
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("error"), std::string::npos);
}

TEST(HttpLoop, TimersRunInDeadlineOrderOnTheLoopThread) {
  http_loop loop;
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> done;
  std::atomic<bool> all_on_loop{true};
  auto note = [&](int i) {
    if (!loop.on_loop_thread()) all_on_loop = false;
    std::lock_guard lk{mu};
    order.push_back(i);
    if (order.size() == 3) done.set_value();
  };
  loop.schedule(milliseconds{60}, [&] { note(3); });
  loop.schedule(milliseconds{5}, [&] { note(1); });
  loop.schedule(milliseconds{30}, [&] { note(2); });
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(all_on_loop);
  EXPECT_FALSE(loop.on_loop_thread());
}

TEST(HttpLoop, ConnectionRefusedIsUnreachable) {
  http_loop loop;
  http_request r;
  r.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/api/tags";
  auto res = submit(loop, r).get();
  ASSERT_NO_FATAL_FAILURE(expect_failed(res, errc::unreachable));
}

TEST(HttpLoop, TotalTimeoutIsTimeout) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  auto r = chat_post(sim.base_url(), "hang");
  r.timeout = milliseconds{150};
  auto t0 = std::chrono::steady_clock::now();
  auto res = submit(loop, r).get();
  ASSERT_NO_FATAL_FAILURE(expect_failed(res, errc::timeout));
  EXPECT_GE(ms_since(t0), 140);
  EXPECT_LT(ms_since(t0), 3000);
}

TEST(HttpLoop, StreamingChunksArrivePieceByPieceAndCanAbort) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  // Whole stream: several chunks, body holds them all.
  std::atomic<int> chunks{0};
  auto r = chat_post(sim.base_url(), "long", true);
  r.on_chunk = [&](std::string_view) {
    ++chunks;
    return true;
  };
  auto res = submit(loop, r).get();
  ASSERT_TRUE(res.ok()) << res.err().describe();
  EXPECT_GT(chunks.load(), 2);
  EXPECT_NE(res->body.find("\"done\":true"), std::string::npos);
  // Abort after the first chunk.
  auto r2 = chat_post(sim.base_url(), "long", true);
  r2.on_chunk = [](std::string_view) { return false; };
  auto res2 = submit(loop, r2).get();
  ASSERT_NO_FATAL_FAILURE(expect_failed(res2, errc::cancelled));
}

TEST(HttpLoop, PerEndpointInFlightLimitQueuesTheRest) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  std::vector<std::future<http_result>> fs;
  for (int i = 0; i < 10; ++i)
    fs.push_back(submit(loop, limited_post(sim.base_url(), "slow", "limited", 2)));
  for (auto& f : fs) {
    auto res = f.get();
    ASSERT_TRUE(res.ok()) << res.err().describe();
    EXPECT_EQ(res->status, 200);
  }
  auto st = loop.stats("limited");
  EXPECT_EQ(st.started, 10u);
  EXPECT_EQ(st.completed, 10u);
  EXPECT_EQ(st.in_flight, 0);
  EXPECT_EQ(st.queued, 0);
  EXPECT_EQ(st.max_in_flight_seen, 2);  // 10 submitted at once, each >= 60 ms
  EXPECT_LE(sim.max_in_flight(), 2);
  EXPECT_EQ(sim.total(), 10);
}

// Summaries go in the background lane: a coder's call queued after them
// still goes first. With one request in flight at a time the completions come
// in start order, so the order below is the order the loop started them in.
TEST(HttpLoop, BackgroundRequestsWaitBehindEveryQueuedForegroundOne) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  std::mutex mu;
  std::vector<std::string> order;
  std::vector<std::future<void>> done;
  auto send = [&](const std::string& name, const std::string& role, bool background) {
    auto r = limited_post(sim.base_url(), role, "one-slot", 1);
    r.background = background;
    r.timeout = milliseconds{60000};
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    loop.submit(std::move(r), [&, name, p](http_result) {
      std::lock_guard lk{mu};
      order.push_back(name);
      p->set_value();
    });
  };
  // The slot is taken by a call the server holds for 5 s ...
  send("held", "hang", false);
  for (int i = 0; i < 3000 && sim.total() < 1; ++i)
    std::this_thread::sleep_for(milliseconds{10});
  ASSERT_EQ(sim.total(), 1) << "the held call never reached the server";
  // ... while two summaries and then two coder calls queue behind it.
  send("summary-1", "any", true);
  send("summary-2", "any", true);
  send("coder-1", "any", false);
  send("coder-2", "any", false);
  for (int i = 0; i < 3000 && loop.stats("one-slot").queued < 4; ++i)
    std::this_thread::sleep_for(milliseconds{1});
  auto st = loop.stats("one-slot");
  ASSERT_EQ(st.queued, 4) << "the four calls were not queued";
  ASSERT_EQ(st.completed, 0u)
    << "the held call ended before the others were queued (machine too slow?)";
  for (auto& f : done)
    ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(order,
            (std::vector<std::string>{"held", "coder-1", "coder-2", "summary-1", "summary-2"}));
  EXPECT_EQ(loop.stats("one-slot").max_in_flight_seen, 1);
}

TEST(HttpLoop, EndpointsHaveIndependentLimits) {
  auto sim = sim_process::start(scenario(kRules));
  http_loop loop;
  std::vector<std::future<http_result>> fs;
  for (int i = 0; i < 6; ++i)
    fs.push_back(submit(loop, limited_post(sim.base_url(), "slow", i % 2 ? "a" : "b", 1)));
  for (auto& f : fs) ASSERT_TRUE(f.get().ok());
  EXPECT_EQ(loop.stats("a").max_in_flight_seen, 1);
  EXPECT_EQ(loop.stats("b").max_in_flight_seen, 1);
  EXPECT_LE(sim.max_in_flight(), 2);
  EXPECT_EQ(sim.total(), 6);
}

TEST(HttpLoop, ShutdownCancelsRunningQueuedAndLaterRequests) {
  auto sim = sim_process::start(scenario(kRules));
  auto loop = std::make_unique<http_loop>();
  std::vector<std::future<http_result>> fs;
  for (int i = 0; i < 3; ++i) {
    auto r = chat_post(sim.base_url(), "hang");
    r.max_in_flight = 1;
    fs.push_back(submit(*loop, r));
  }
  // Wait until the first one is on the wire.
  auto key = http_loop::endpoint_of(sim.base_url() + "/api/chat");
  EXPECT_EQ(key, sim.base_url());
  for (int i = 0; i < 200 && sim.total() < 1; ++i) std::this_thread::sleep_for(milliseconds{10});
  auto st = loop->stats(key);
  EXPECT_EQ(st.in_flight, 1);
  EXPECT_EQ(st.queued, 2);
  auto t0 = std::chrono::steady_clock::now();
  loop->shutdown();
  EXPECT_LT(ms_since(t0), 2000);
  for (auto& f : fs) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(1)), std::future_status::ready);
    auto res = f.get();
    ASSERT_NO_FATAL_FAILURE(expect_failed(res, errc::cancelled));
  }
  // After shutdown: at once, cancelled; timers run at once.
  auto late = submit(*loop, chat_post(sim.base_url(), "slow"));
  ASSERT_EQ(late.wait_for(milliseconds{0}), std::future_status::ready);
  EXPECT_EQ(late.get().err().code, errc::cancelled);
  bool ran = false;
  loop->schedule(std::chrono::hours{1}, [&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_EQ(sim.total(), 1);  // the queued ones never reached the server
}

TEST(HttpLoop, PendingTimersRunAtShutdown) {
  auto loop = std::make_unique<http_loop>();
  std::promise<errc> got;
  loop->schedule(std::chrono::hours{1}, [&] {
    // A retry scheduled far ahead: at shutdown it runs and its submit is cancelled.
    http_request r;
    r.url = "http://127.0.0.1:1/";
    loop->submit(r, [&](http_result res) { got.set_value(res.ok() ? errc::bad_config : res.err().code); });
  });
  loop->shutdown();
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(milliseconds{0}), std::future_status::ready);
  EXPECT_EQ(f.get(), errc::cancelled);
}
