// Each fault kind's HTTP behaviour, seeded random faults, and the OpenAI
// json_schema refusal.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "tests/sim/sim_test_util.hpp"

using namespace sim_test;

namespace {

sim_process start_fault(const std::string& fault_entry) {
  return sim_process::start(R"({"rules":[{"name":"f","match":{"role":"coder"},"responses":[)" +
                            fault_entry + R"(,{"content":"recovered"}]}]})");
}

/// A 200 whose body is there but is not JSON.
void expect_ok_but_not_json(const http_reply& r) {
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_FALSE(is_json(r.body)) << r.body;
}

}  // namespace

TEST(SimFaults, RateLimitedWithRetryAfter) {
  auto sim = start_fault(R"({"fault":"429","retry_after_s":3})");
  auto r = ollama_chat(sim, "x", false, role_headers("coder"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("Retry-After"), "3");
  EXPECT_TRUE(parse(r.body)["error"].IsString()) << r.body;
  // The next request gets the next entry.
  auto ok = ollama_chat(sim, "x", false, role_headers("coder"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ollama_content(ok.body, false), "recovered");
  EXPECT_EQ(sim.count_fault("429"), 1);
}

TEST(SimFaults, RetryAfterDefaultsToOneSecond) {
  auto sim = start_fault(R"({"fault":429})");
  auto r = openai_chat(sim, "x", true, role_headers("coder"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_TRUE(parse(r.body)["error"]["message"].IsString()) << r.body;
}

TEST(SimFaults, StatusFaults) {
  for (const char* kind : {"500", "503", "404", "400"}) {
    auto sim = start_fault(std::string(R"({"fault":")") + kind + "\"}");
    auto r = ollama_chat(sim, "x", false, role_headers("coder"));
    EXPECT_EQ(r.status, std::stoi(kind)) << kind;
    EXPECT_TRUE(parse(r.body).HasMember("error")) << kind << ": " << r.body;
    auto o = openai_chat(sim, "x", false, role_headers("coder"));
    EXPECT_EQ(o.status, 200) << kind;  // the sequence moved on
    EXPECT_EQ(sim.count_fault(kind), 1);
  }
}

TEST(SimFaults, HangUntilClientGivesUp) {
  auto sim = start_fault(R"({"fault":"hang"})");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = http_post(sim.base_url(), "/api/chat", chat_body("m", "x", false), role_headers("coder"),
                     /*timeout_ms=*/500);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, -1) << "a hang must not answer: " << r.body;
  EXPECT_GE(waited, std::chrono::milliseconds(450));
  EXPECT_EQ(sim.count_fault("hang"), 1);
}

TEST(SimFaults, HangEndsAfterHangMs) {
  auto sim = start_fault(R"({"fault":"hang","hang_ms":300})");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ollama_chat(sim, "x", false, role_headers("coder"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(300));
  EXPECT_EQ(r.status, 504);
}

TEST(SimFaults, HangDoesNotBlockShutdown) {
  auto sim = start_fault(R"({"fault":"hang"})");  // default hang_ms: 60 s
  std::thread client([url = sim.base_url()] {
    http_post(url, "/api/chat", chat_body("m", "x", false), role_headers("coder"), 20000);
  });
  while (sim.count_fault("hang") == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto t0 = std::chrono::steady_clock::now();
  const int status = sim.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  client.join();
}

TEST(SimFaults, MalformedIs200NotJson) {
  auto sim = start_fault(R"({"fault":"malformed"})");
  auto r = ollama_chat(sim, "x", false, role_headers("coder"));
  expect_ok_but_not_json(r);
  sim.reset();
  auto s = openai_chat(sim, "x", true, role_headers("coder"));
  EXPECT_EQ(s.status, 200);
  for (const auto& d : sse_data(s.body)) EXPECT_FALSE(is_json(d)) << d;
}

TEST(SimFaults, TruncatedBodyIsCutJson) {
  auto sim = start_fault(R"({"fault":"truncated"})");
  auto r = openai_chat(sim, "x", false, role_headers("coder"));
  expect_ok_but_not_json(r);
  EXPECT_EQ(r.body.front(), '{');
}

TEST(SimFaults, TruncatedOllamaStreamHasNoDoneLine) {
  auto sim = sim_process::start(R"({"rules":[{"match":{"role":"coder"},"response":{"fault":"truncated"}}],
      "default":{"content":"unused"}})");
  auto r = ollama_chat(sim, "x", true, role_headers("coder"));
  EXPECT_EQ(r.status, 200);
  auto ls = lines(r.body);
  ASSERT_FALSE(ls.empty());
  for (const auto& l : ls) {
    auto d = parse(l);
    if (d.HasParseError()) continue;  // the cut line
    EXPECT_FALSE(d["done"].GetBool()) << l;
  }
  EXPECT_FALSE(is_json(ls.back()));
}

TEST(SimFaults, TruncatedOpenAIStreamHasNoDoneMarker) {
  auto sim = sim_process::start(R"({"rules":[{"response":{"fault":"truncated"}}]})");
  auto r = openai_chat(sim, "x", true, role_headers("coder"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"stop\""), std::string::npos) << r.body;
}

TEST(SimFaults, EmptyIsWellFormedWithEmptyContent) {
  auto sim = sim_process::start(R"({"rules":[{"response":{"fault":"empty"}}]})");
  auto r = ollama_chat(sim, "x", false);
  ASSERT_EQ(r.status, 200);
  auto d = parse(r.body);
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["message"]["content"].GetString(), "");
  EXPECT_TRUE(d["done"].GetBool());
  auto s = openai_chat(sim, "x", true);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(openai_content(s.body, true), "");
  EXPECT_EQ(sse_data(s.body).back(), "[DONE]");
  EXPECT_EQ(sim.count_fault("empty"), 2);
}

TEST(SimFaults, RandomFaultsAreSeededAndRepeatable) {
  const std::string scenario = R"({"random_faults":{"rate":0.5,"kinds":["500","429"]},
      "rules":[{"name":"ok","response":{"content":"ok"}}]})";
  auto run = [&](int seed) {
    sim_process::options opts;
    opts.seed = seed;
    auto sim = sim_process::start(scenario, opts);
    std::string pattern;
    for (int i = 0; i < 40; ++i) {
      int s = ollama_chat(sim, "x", false).status;
      pattern += s == 200 ? '.' : s == 500 ? 'E' : s == 429 ? 'R' : '?';
    }
    return pattern;
  };
  const std::string a = run(7);
  EXPECT_EQ(a, run(7));
  EXPECT_NE(a.find('.'), std::string::npos) << a;
  EXPECT_NE(a.find('E'), std::string::npos) << a;
  EXPECT_NE(a.find('R'), std::string::npos) << a;
  EXPECT_EQ(a.find('?'), std::string::npos) << a;
}

TEST(SimFaults, RandomFaultDoesNotConsumeTheScriptedAnswer) {
  auto sim = sim_process::start(R"({"random_faults":{"rate":0.5,"kinds":["503"]},
      "rules":[{"responses":[{"content":"a"},{"content":"b"},{"content":"c"}]}]})");
  std::string got;
  for (int i = 0; i < 30 && got.size() < 3; ++i) {
    auto r = ollama_chat(sim, "x", false);
    if (r.status == 200) got += ollama_content(r.body, false);
  }
  EXPECT_EQ(got, "abc");
}

TEST(SimFaults, OpenAIJsonSchemaRefusedWhenDisabled) {
  auto sim = sim_process::start(R"({"openai_json_schema":false,"rules":[{"response":{"content":"{}"}}]})");
  auto r = openai_chat(sim, "x", false, {}, "m", R"("response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}})");
  EXPECT_EQ(r.status, 400);
  std::string msg = parse(r.body)["error"]["message"].GetString();
  EXPECT_NE(msg.find("response_format"), std::string::npos) << msg;
  EXPECT_NE(msg.find("json_schema"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unsupported"), std::string::npos) << msg;
  // The json_object fallback works.
  auto ok = openai_chat(sim, "x", false, {}, "m", R"("response_format":{"type":"json_object"})");
  EXPECT_EQ(ok.status, 200);
  // Ollama's format is unaffected.
  auto o = http_post(sim.base_url(), "/api/chat",
                     chat_body("m", "x", false, R"("format":{"type":"object"})"));
  EXPECT_EQ(o.status, 200);
}

TEST(SimFaults, OpenAIJsonSchemaAcceptedByDefault) {
  auto sim = sim_process::start(R"({"rules":[{"response":{"content":"{}"}}]})");
  auto r = openai_chat(sim, "x", false, {}, "m", R"("response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}})");
  EXPECT_EQ(r.status, 200) << r.body;
}
