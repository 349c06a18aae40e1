// Issue 10: the clients against servers' real refusals (bodies as the
// servers send them), each learned once, logged once with the server's own
// words, and nothing else ever changing the request shape.
#include <gtest/gtest.h>

#include <httplib.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/llm_clients/capture_server.hpp"
#include "tests/llm_clients/fixture.hpp"
#include "tests/support/json.hpp"

using namespace codehive::llm;
using namespace codehive::llm::testing;

namespace {

const char* kSchema = R"({"type":"object","properties":{"files":{"type":"array"}},"required":["files"]})";

rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_json(text);
}

std::string openai_ok(const std::string& content_json_escaped) {
  return R"({"choices":[{"index":0,"message":{"role":"assistant","content":)" + content_json_escaped +
         R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}})";
}

std::string ollama_ok(const std::string& message_fields) {
  return R"({"model":"m","message":{"role":"assistant",)" + message_fields +
         R"(},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2})";
}

std::string openai_error(const std::string& message, const std::string& param, const std::string& code) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("message");
  w.String(message.c_str());
  w.Key("type");
  w.String("invalid_request_error");
  w.Key("param");
  if (param.empty())
    w.Null();
  else
    w.String(param.c_str());
  w.Key("code");
  w.String(code.c_str());
  w.EndObject();
  w.EndObject();
  return b.GetString();
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

/// A 400 in OpenAI's error shape (see openai_error).
void refuse_with_400(httplib::Response& res, const std::string& message, const std::string& param,
                     const std::string& code) {
  res.status = 400;
  res.set_content(openai_error(message, param, code), "application/json");
}

/// llama.cpp's server before schema support, asked for json_schema: a 500 naming it.
void refuse_json_schema(httplib::Response& res) {
  res.status = 500;
  res.set_content(
    R"({"error":{"code":500,"message":"response_format type must be one of \"text\" or \"json_object\", but got: json_schema","type":"server_error"}})",
    "application/json");
}

chat_request structured(const std::string& role) {
  auto req = request(role, "", "plan it");
  req.json_schema = kSchema;
  return req;
}

}  // namespace

// llama.cpp server before schema support answers json_schema with a 500:
// one fallback to json_object at once, no transport retries, logged once.
TEST(Adapt, JsonSchemaRefusedWith500FallsBackOnceWithoutRetries) {
  capture_server srv([](const httplib::Request& req, httplib::Response& res) {
    if (req.body.find("\"json_schema\"") != std::string::npos) {
      refuse_json_schema(res);
      return;
    }
    res.set_content(openai_ok(R"("{\"files\":[\"a.js\"]}")"), "application/json");
  });
  log_capture logs;
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, srv.base()));
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":["a.js"]})");
  EXPECT_EQ(r->use.attempts, 2);
  ASSERT_TRUE(chat_sync(*cl, structured("planner")).ok());
  auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 3u);  // refused once, then json_object straight away
  EXPECT_STREQ(parse(seen[1].body)["response_format"]["type"].GetString(), "json_object");
  EXPECT_STREQ(parse(seen[2].body)["response_format"]["type"].GetString(), "json_object");
  EXPECT_EQ(cl->profile().structured, structured_mode::json_object);
  auto text = logs.text();
  EXPECT_EQ(count_of(text, "but got: json_schema"), 1u) << text;
  EXPECT_EQ(count_of(text, "refused response_format"), 1u) << text;
  EXPECT_EQ(text.find("llm retry"), std::string::npos) << text;
}

// A server refusing json_schema and then json_object (LM Studio's words):
// prompt only, the project's own extraction and schema check.
TEST(Adapt, JsonObjectRefusedTooMeansPromptOnly) {
  capture_server srv([](const httplib::Request& req, httplib::Response& res) {
    if (req.body.find("\"json_schema\"") != std::string::npos) {
      res.status = 400;
      res.set_content(R"({"error":"json_schema is not supported by this back-end"})", "application/json");
      return;
    }
    if (req.body.find("\"json_object\"") != std::string::npos) {
      res.status = 400;
      res.set_content(R"({"error":"'response_format.type' must be 'json_schema' or 'text'"})", "application/json");
      return;
    }
    res.set_content(openai_ok(R"("Sure! ```json\n{\"files\":[]}\n```")"), "application/json");
  });
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, srv.base()));
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":[]})");
  auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(parse(seen[2].body).HasMember("response_format"));
  EXPECT_EQ(cl->profile().structured, structured_mode::prompt_only);
  EXPECT_EQ(cl->profile().learned.size(), 2u);
}

// A pinned mode is never changed: the refusal is reported as it is.
TEST(Adapt, PinnedStructuredModeIsNeverDowngraded) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":"json_schema is not supported"})", "application/json");
  });
  http_loop loop;
  auto c = config_for(api::openai, srv.base());
  c.profile.structured = structured_mode::json_schema;
  auto cl = make_client(loop, c);
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().http_status, 400);
  EXPECT_NE(r.err().message.find("json_schema is not supported"), std::string::npos);
  EXPECT_EQ(srv.seen().size(), 1u);
}

// Ollama: format schema -> "json" -> none.
TEST(Adapt, OllamaFormatRefusedStepsDown) {
  capture_server srv([](const httplib::Request& req, httplib::Response& res) {
    auto d = parse(req.body);
    if (d.HasMember("format")) {
      res.status = 400;
      res.set_content(R"({"error":"invalid format: this server takes no format"})", "application/json");
      return;
    }
    res.set_content(ollama_ok(R"("content":"{\"files\":[]}")"), "application/json");
  });
  http_loop loop;
  auto cl = make_client(loop, config_for(api::ollama, srv.base()));
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(parse(seen[0].body)["format"].IsObject());
  EXPECT_STREQ(parse(seen[1].body)["format"].GetString(), "json");
  EXPECT_FALSE(parse(seen[2].body).HasMember("format"));
}

// OpenAI reasoning models: temperature other than 1 refused; max_tokens
// refused. Each learned once, logged once, the call sent again at once.
TEST(Adapt, TemperatureAndMaxTokensRefusalsAreLearnedOnce) {
  capture_server srv([](const httplib::Request& req, httplib::Response& res) {
    auto d = parse(req.body);
    if (d.HasMember("temperature")) {
      refuse_with_400(
        res,
        "Unsupported value: 'temperature' does not support 0.2 with this model. Only the "
        "default (1) value is supported.",
        "temperature", "unsupported_value");
      return;
    }
    if (d.HasMember("max_tokens")) {
      refuse_with_400(res,
                      "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                      "'max_completion_tokens' instead.",
                      "max_tokens", "unsupported_parameter");
      return;
    }
    res.set_content(openai_ok(R"("a short summary")"), "application/json");
  });
  log_capture logs;
  http_loop loop;
  // A deployment name that says nothing: learned from the answers.
  auto cl = make_client(loop, config_for(api::openai, srv.base(), "my-planner"));
  for (int i = 0; i < 2; ++i) {
    auto r = chat_sync(*cl, summary_request("a.js", "summarize", 0.2, 200));
    ASSERT_TRUE(r.ok()) << r.err().describe();
  }
  auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 4u);  // 3 for the first call, 1 for the second
  auto last = parse(seen[3].body);
  EXPECT_FALSE(last.HasMember("temperature"));
  EXPECT_FALSE(last.HasMember("max_tokens"));
  EXPECT_EQ(last["max_completion_tokens"].GetInt(), 200);
  auto p = cl->profile();
  EXPECT_FALSE(p.temperature);
  EXPECT_TRUE(p.max_completion_tokens);
  auto text = logs.text();
  EXPECT_EQ(count_of(text, "Only the default (1) value is supported"), 1u) << text;
  EXPECT_EQ(count_of(text, "Use 'max_completion_tokens' instead"), 1u) << text;
}

// Known reasoning models start with the right shape: no failed first call.
TEST(Adapt, ReasoningModelNamesNeedNoFailedCall) {
  capture_server srv([](const httplib::Request& req, httplib::Response& res) {
    auto d = parse(req.body);
    if (d.HasMember("temperature") || d.HasMember("max_tokens")) {
      refuse_with_400(res, "Unsupported parameter", "temperature", "unsupported_parameter");
      return;
    }
    res.set_content(openai_ok(R"("ok")"), "application/json");
  });
  http_loop loop;
  for (const char* model : {"o3-mini", "gpt-5-mini", "o1"}) {
    auto cl = make_client(loop, config_for(api::openai, srv.base(), model));
    auto r = chat_sync(*cl, summary_request("", "x", 0.0, 200));
    ASSERT_TRUE(r.ok()) << model << ": " << r.err().describe();
    EXPECT_EQ(r->use.attempts, 1) << model;
  }
  EXPECT_EQ(srv.seen().size(), 3u);
}

// A 400 about something else (vLLM's context error names max_tokens) is
// reported as it is and switches nothing.
TEST(Adapt, ContextErrorIsNotTakenForARefusedParameter) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(
        R"({"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400})",
        "application/json");
  });
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, srv.base()));
  auto req = structured("planner");
  req.max_tokens = 1000;
  req.temperature = 0.2;
  auto r = chat_sync(*cl, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().http_status, 400);
  EXPECT_NE(r.err().message.find("maximum context length is 4096"), std::string::npos) << r.err().message;
  EXPECT_EQ(srv.seen().size(), 1u);
  auto p = cl->profile();
  EXPECT_EQ(p.structured, structured_mode::json_schema);
  EXPECT_TRUE(p.temperature);
  EXPECT_FALSE(p.max_completion_tokens);
  EXPECT_TRUE(p.learned.empty());
}

// Ollama refusing `think` (older models / proxies): dropped once.
TEST(Adapt, OllamaThinkRefusedIsDropped) {
  capture_server srv([](const httplib::Request& req, httplib::Response& res) {
    if (parse(req.body).HasMember("think")) {
      res.status = 400;
      res.set_content(R"({"error":"\"llama3:latest\" does not support thinking"})", "application/json");
      return;
    }
    res.set_content(ollama_ok(R"("content":"hello")"), "application/json");
  });
  http_loop loop;
  auto cl = make_client(loop, config_for(api::ollama, srv.base(), "llama3"));
  ASSERT_TRUE(chat_sync(*cl, request("coder", "", "x")).ok());
  ASSERT_TRUE(chat_sync(*cl, request("coder", "", "x")).ok());
  EXPECT_EQ(srv.seen().size(), 3u);
  EXPECT_FALSE(cl->profile().think);
}

// Thinking is never the answer, except where a structured answer can only be
// found there (content empty or without any JSON, and the thinking's JSON
// validates): Ollama with `format` on a thinking model.
TEST(Adapt, ThinkingIsOnlyTheAnswerWhereTheJsonCanOnlyBeFoundThere) {
  std::atomic<int> mode{0};
  capture_server srv([&](const httplib::Request&, httplib::Response& res) {
    switch (mode.load()) {
      case 0:  // content empty, JSON in thinking
        res.set_content(ollama_ok(R"("content":"","thinking":"{\"files\":[\"t.js\"]}")"), "application/json");
        break;
      case 1:  // content empty, thinking prose only
        res.set_content(ollama_ok(R"("content":"","thinking":"Let me think about the files...")"), "application/json");
        break;
      case 2:  // content has the JSON, thinking has a draft
        res.set_content(ollama_ok(R"("content":"{\"files\":[\"real.js\"]}","thinking":"{\"files\":[\"draft.js\"]}")"),
                        "application/json");
        break;
      default:  // inline <think> block before the answer
        res.set_content(ollama_ok(R"("content":"<think>{\"files\":[\"draft.js\"]}</think>\n{\"files\":[\"real.js\"]}")"),
                        "application/json");
    }
  });
  http_loop loop;
  auto cl = make_client(loop, config_for(api::ollama, srv.base()));
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":["t.js"]})");
  mode = 1;
  r = chat_sync(*cl, structured("planner"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::empty_answer);
  EXPECT_NE(r.err().message.find("thinking"), std::string::npos) << r.err().message;
  // Without a schema thinking is never the answer.
  mode = 0;
  r = chat_sync(*cl, request("coder", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::empty_answer);
  mode = 2;
  r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":["real.js"]})");
  mode = 3;
  r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":["real.js"]})");
}

TEST(Adapt, OpenAiReasoningContentIsThinkingNotAnswer) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        R"({"choices":[{"message":{"role":"assistant","content":"","reasoning_content":"I should answer {\"files\":[\"r.js\"]}"},"finish_reason":"stop"}]})",
        "application/json");
  });
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, srv.base()));
  auto plain = chat_sync(*cl, request("coder", "", "x"));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.err().code, errc::empty_answer);
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":["r.js"]})");
}

// OpenAI's refusal: content null, message.refusal set.
TEST(Adapt, RefusalIsReportedWithItsText) {
  capture_server srv([](const httplib::Request& req, httplib::Response& res) {
    if (parse(req.body)["stream"].GetBool()) {
      res.set_content(
          "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't \"},\"finish_reason\":null}]}\n\n"
          "data: {\"choices\":[{\"delta\":{\"refusal\":\"help with that.\"},\"finish_reason\":\"stop\"}]}\n\n"
          "data: [DONE]\n\n",
          "text/event-stream");
      return;
    }
    res.set_content(
        R"({"choices":[{"message":{"role":"assistant","content":null,"refusal":"I'm sorry, I can't help with that."},"finish_reason":"stop"}]})",
        "application/json");
  });
  http_loop loop;
  auto cl = make_client(loop, config_for(api::openai, srv.base()));
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::empty_answer);  // the caller's bad_answer: asked again or reported
  EXPECT_NE(r.err().message.find("refused to answer: I'm sorry, I can't help with that."), std::string::npos)
      << r.err().message;
  EXPECT_EQ(r.err().message.find("empty content"), std::string::npos) << r.err().message;
  auto s = chat_sync(*cl, request("coder", "", "x", true));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().message.find("refused to answer: I can't help with that."), std::string::npos) << s.err().message;
}

// Issue 16: a reply larger than the cap is aborted while it arrives (an
// endless body would otherwise never end), reported clearly.
TEST(Adapt, OversizedReplyIsAbortedWhileReading) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
      static const std::string chunk(64 * 1024, 'x');
      return sink.write(chunk.data(), chunk.size());  // endless until the client goes away
    });
  });
  http_loop loop;
  auto c = config_for(api::openai, srv.base());
  c.max_reply_bytes = 1 << 20;
  c.call_timeout = std::chrono::milliseconds{60000};
  auto cl = make_client(loop, c);
  auto r = chat_sync(*cl, request("coder", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::truncated);
  EXPECT_NE(r.err().message.find("larger than the reply cap of 1048576 bytes"), std::string::npos) << r.err().message;
}

// Issue 16: a gateway that echoes the key in its error body: the error
// (which goes to the log, the store and status.json) never holds the key.
TEST(Adapt, KeyEchoedInAnErrorBodyIsScrubbed) {
  std::atomic<int> calls{0};
  capture_server srv([&](const httplib::Request& req, httplib::Response& res) {
    res.status = calls++ == 0 ? 503 : 400;  // the 503 goes through the retry log line
    res.set_content("{\"error\":{\"message\":\"bad credentials: " + req.get_header_value("Authorization") + " / " +
                        req.get_header_value("X-Gateway-Token") + "\"}}",
                    "application/json");
  });
  ::setenv("CODEHIVE_ADAPT_KEY", "sk-echo-SECRET-777", 1);
  ::setenv("CODEHIVE_ADAPT_GW", "gw-token-SECRET-888", 1);
  log_capture logs;
  {
    http_loop loop;
    auto c = config_for(api::openai, srv.base());
    c.api_key_env = "CODEHIVE_ADAPT_KEY";
    c.headers = {{"X-Gateway-Token", "${CODEHIVE_ADAPT_GW}"}};
    auto cl = make_client(loop, c);
    auto r = chat_sync(*cl, request("coder", "", "x"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().describe().find("SECRET"), std::string::npos) << r.err().describe();
    EXPECT_NE(r.err().message.find("bad credentials: Bearer [redacted] / [redacted]"), std::string::npos)
        << r.err().message;
    auto seen = srv.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].headers["Authorization"], "Bearer sk-echo-SECRET-777");
    EXPECT_EQ(seen[0].headers["X-Gateway-Token"], "gw-token-SECRET-888");
  }
  EXPECT_EQ(logs.text().find("SECRET"), std::string::npos) << logs.text();
  ::unsetenv("CODEHIVE_ADAPT_KEY");
  ::unsetenv("CODEHIVE_ADAPT_GW");
}

// Azure-style SPEC: any base path, the query on every request, the
// deployment as the model.
TEST(Adapt, BasePathAndQueryReachTheServer) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.set_content(openai_ok(R"("hi")"), "application/json");
  });
  http_loop loop;
  endpoint_config c = config_for(api::openai, srv.base());
  c.spec.base_url = srv.base() + "/openai/deployments/my-gpt";
  c.spec.model = "my-gpt";
  c.spec.model_in_path = true;
  c.spec.query = "api-version=2024-10-21";
  auto cl = make_client(loop, c);
  ASSERT_TRUE(chat_sync(*cl, request("coder", "", "x")).ok());
  auto seen = srv.seen();
  ASSERT_GE(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/openai/deployments/my-gpt/chat/completions");
  EXPECT_EQ(seen[0].params["api-version"], "2024-10-21");
  EXPECT_STREQ(parse(seen[0].body)["model"].GetString(), "my-gpt");
}

// A key is not sent over plain HTTP to a host outside loopback unless the
// config allows it; loopback and allow_insecure_key get it.
TEST(Adapt, KeyIsWithheldFromPlainHttpOutsideLoopback) {
  // A non-loopback address of this machine, if it has one.
  std::string lan;
  ifaddrs* ifs = nullptr;
  if (::getifaddrs(&ifs) == 0) {
    for (auto* i = ifs; i != nullptr && lan.empty(); i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      char buf[INET_ADDRSTRLEN] = {0};
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      if (std::string(buf).rfind("127.", 0) != 0) lan = buf;
    }
    ::freeifaddrs(ifs);
  }
  if (lan.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.set_content(openai_ok(R"("hi")"), "application/json");
  }, "0.0.0.0");
  ::setenv("CODEHIVE_ADAPT_LAN_KEY", "sk-lan-4242", 1);
  http_loop loop;
  auto c = config_for(api::openai, "http://" + lan + ":" + std::to_string(srv.port()));
  c.api_key_env = "CODEHIVE_ADAPT_LAN_KEY";
  c.headers = {{"api-key", "$CODEHIVE_ADAPT_LAN_KEY"}, {"X-Plain", "visible"}};
  ASSERT_TRUE(chat_sync(*make_client(loop, c), request("coder", "", "x")).ok());
  c.allow_insecure_key = true;
  ASSERT_TRUE(chat_sync(*make_client(loop, c), request("coder", "", "x")).ok());
  auto loopback = config_for(api::openai, srv.base());
  loopback.api_key_env = "CODEHIVE_ADAPT_LAN_KEY";
  ASSERT_TRUE(chat_sync(*make_client(loop, loopback), request("coder", "", "x")).ok());
  auto seen = srv.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].headers.count("Authorization"), 0u);
  EXPECT_EQ(seen[0].headers.count("api-key"), 0u);
  EXPECT_EQ(seen[0].headers["X-Plain"], "visible");
  EXPECT_EQ(seen[1].headers["Authorization"], "Bearer sk-lan-4242");
  EXPECT_EQ(seen[1].headers["api-key"], "sk-lan-4242");
  EXPECT_EQ(seen[2].headers["Authorization"], "Bearer sk-lan-4242");
  ::unsetenv("CODEHIVE_ADAPT_LAN_KEY");
}

// Streaming everywhere when the endpoint says so, with a first-token and an
// idle timeout instead of only the whole-call one.
TEST(Adapt, StreamingEndpointAssemblesThinkingApartFromContent) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hmm \"},\"done\":false}\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"files\\\":\",\"thinking\":\"\"},\"done\":false}\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"[]}\"},\"done\":false}\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":4,\"eval_count\":3}\n",
        "application/x-ndjson");
  });
  http_loop loop;
  auto c = config_for(api::ollama, srv.base());
  c.stream = true;
  c.idle_timeout = std::chrono::milliseconds{10000};
  auto cl = make_client(loop, c);
  auto r = chat_sync(*cl, structured("planner"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->content, R"({"files":[]})");
  EXPECT_EQ(r->use.completion_tokens, 3);
  EXPECT_TRUE(parse(srv.seen()[0].body)["stream"].GetBool());
}

namespace {

/// A streaming OpenAI endpoint at `base`, no retries, 20 s for the whole call.
endpoint_config streaming_config(const std::string& base) {
  auto c = config_for(api::openai, base);
  c.stream = true;
  c.max_retries = 0;
  c.call_timeout = std::chrono::milliseconds{20000};
  return c;
}

/// A coder's call through `c` ends in a timeout that says `says`.
void expect_coder_timeout_saying(const endpoint_config& c, const std::string& says) {
  http_loop loop;
  auto cl = make_client(loop, c);
  auto r = chat_sync(*cl, request("coder", "", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::timeout);
  EXPECT_NE(r.err().message.find(says), std::string::npos) << r.err().message;
}

}  // namespace

TEST(Adapt, StalledStreamEndsWithAnIdleTimeout) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [](size_t offset, httplib::DataSink& sink) {
      if (offset == 0) {
        std::string first = "data: {\"choices\":[{\"delta\":{\"content\":\"hel\"},\"finish_reason\":null}]}\n\n";
        return sink.write(first.data(), first.size());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // then the server goes quiet
      return false;
    });
  });
  auto c = streaming_config(srv.base());
  c.idle_timeout = std::chrono::milliseconds{300};
  expect_coder_timeout_saying(c, "stalled for more than 300 ms");
}

TEST(Adapt, NoFirstTokenEndsWithAFirstTokenTimeout) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // queued behind other requests
    res.set_content("data: [DONE]\n\n", "text/event-stream");
  });
  auto c = streaming_config(srv.base());
  c.first_token_timeout = std::chrono::milliseconds{300};
  expect_coder_timeout_saying(c, "no first token");
}

// Calls in flight together meet a refusal once per client, not once each:
// the first call of a new request shape goes alone, the rest wait for it.
TEST(Adapt, ConcurrentCallsMeetARefusalOnce) {
  std::atomic<int> refused{0};
  capture_server srv([&](const httplib::Request& req, httplib::Response& res) {
    if (req.body.find("\"json_schema\"") != std::string::npos) {
      ++refused;
      refuse_json_schema(res);
      return;
    }
    res.set_content(openai_ok(R"("{\"files\":[]}")"), "application/json");
  });
  http_loop loop;
  auto c = config_for(api::openai, srv.base());
  c.max_in_flight = 6;
  auto cl = make_client(loop, c);
  std::vector<std::future<result<chat_response>>> replies;
  std::vector<std::shared_ptr<std::promise<result<chat_response>>>> promises;
  for (int i = 0; i < 6; ++i) {
    auto p = std::make_shared<std::promise<result<chat_response>>>();
    replies.push_back(p->get_future());
    cl->chat(structured("coder"), [p](result<chat_response> r) { p->set_value(std::move(r)); });
    promises.push_back(p);
  }
  for (auto& f : replies) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.err().describe();
  }
  EXPECT_EQ(refused.load(), 1);
  EXPECT_EQ(srv.seen().size(), 7u);
}

// The first call of a new shape is the probe, but once its stream generates
// the server has taken the shape: the waiting calls go then, not after the
// probe's whole answer. Here the probe's stream stays open until the second
// call arrives (or 60 s pass, which only happens when it waited).
TEST(Adapt, CallsWaitingOnAProbeGoAtItsFirstToken) {
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  bool second_came_while_first_streamed = false;
  capture_server srv([&](const httplib::Request&, httplib::Response& res) {
    int n;
    {
      std::lock_guard lk{mu};
      n = ++arrived;
    }
    cv.notify_all();
    const std::string head = "data: {\"choices\":[{\"delta\":{\"content\":\"{\\\"files\\\":\"},\"finish_reason\":null}]}\n\n";
    const std::string tail = "data: {\"choices\":[{\"delta\":{\"content\":\"[]}\"},\"finish_reason\":\"stop\"}]}\n\n"
                             "data: [DONE]\n\n";
    if (n > 1) {
      res.set_content(head + tail, "text/event-stream");
      return;
    }
    res.set_chunked_content_provider("text/event-stream", [&, head, tail](size_t offset, httplib::DataSink& sink) {
      if (offset == 0)
        return sink.write(head.data(), head.size());  // the first token: the shape is taken
      {
        std::unique_lock lk{mu};
        second_came_while_first_streamed =
            cv.wait_for(lk, std::chrono::seconds(60), [&] { return arrived >= 2; });
      }
      sink.write(tail.data(), tail.size());
      sink.done();
      return true;
    });
  });
  http_loop loop;
  auto c = streaming_config(srv.base());
  c.call_timeout = std::chrono::milliseconds{120000};
  c.max_in_flight = 2;
  auto cl = make_client(loop, c);
  std::vector<std::future<result<chat_response>>> replies;
  for (int i = 0; i < 2; ++i) {
    auto p = std::make_shared<std::promise<result<chat_response>>>();
    replies.push_back(p->get_future());
    auto req = structured("coder");
    req.stream = true;
    cl->chat(req, [p](result<chat_response> r) { p->set_value(std::move(r)); });
  }
  for (auto& f : replies) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.err().describe();
    EXPECT_EQ(r->content, R"({"files":[]})");
  }
  EXPECT_TRUE(second_came_while_first_streamed)
    << "the second call waited for the probe's whole answer (60 s bound)";
}

// Two clients of one endpoint (the planner's and the coders' on one server)
// learn together: the refusal is met once, logged once.
TEST(Adapt, ClientsOfOneEndpointLearnOnce) {
  std::atomic<int> refused{0};
  capture_server srv([&](const httplib::Request& req, httplib::Response& res) {
    if (parse(req.body).HasMember("temperature")) {
      ++refused;
      refuse_with_400(res, "Unsupported parameter: 'temperature' is not supported with this model.",
                      "temperature", "unsupported_parameter");
      return;
    }
    res.set_content(openai_ok(R"("{\"files\":[]}")"), "application/json");
  });
  log_capture logs;
  http_loop loop;
  auto large_cfg = config_for(api::openai, srv.base(), "deploy-1");
  large_cfg.context_tokens = 32768;
  auto small_cfg = config_for(api::openai, srv.base(), "deploy-1");
  auto large = make_client(loop, large_cfg);
  auto small = make_client(loop, small_cfg);
  auto req = structured("planner");
  req.temperature = 0.2;
  ASSERT_TRUE(chat_sync(*large, req).ok());
  ASSERT_TRUE(chat_sync(*small, req).ok());
  EXPECT_EQ(refused.load(), 1);
  EXPECT_FALSE(small->profile().temperature);
  EXPECT_EQ(small->profile().learned.size(), 1u);
  EXPECT_EQ(count_of(logs.text(), "refused temperature"), 1u) << logs.text();
  // Another model on the same server learns on its own.
  auto other = make_client(loop, config_for(api::openai, srv.base(), "deploy-2"));
  ASSERT_TRUE(chat_sync(*other, req).ok());
  EXPECT_EQ(refused.load(), 2);
}
