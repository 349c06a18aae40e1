// Helpers shared by the llm-sim suites: request bodies, JSON parsing,
// NDJSON/SSE splitting, timed raw requests.
#pragma once

#include <httplib.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "tests/support/json.hpp"
#include "tests/support/sim_process.hpp"

namespace sim_test {

using codehive::test::http_get;
using codehive::test::http_post;
using codehive::test::http_reply;
using codehive::test::sim_process;

inline std::string escape(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return buf.GetString();
}

/// {"model":…,"messages":[{"role":"user","content":prompt}],"stream":…} + extra members.
inline std::string chat_body(const std::string& model, const std::string& prompt, bool stream,
                             const std::string& extra = "") {
  return R"({"model":)" + escape(model) + R"(,"messages":[{"role":"system","content":"You write code."},{"role":"user","content":)" +
         escape(prompt) + R"(}],"stream":)" + (stream ? "true" : "false") +
         (extra.empty() ? "" : "," + extra) + "}";
}

inline std::map<std::string, std::string> role_headers(const std::string& role,
                                                       const std::string& path = "") {
  std::map<std::string, std::string> h{{"X-Codehive-Role", role}};
  if (!path.empty()) h["X-Codehive-Path"] = path;
  return h;
}

inline http_reply ollama_chat(sim_process& sim, const std::string& prompt, bool stream,
                              const std::map<std::string, std::string>& headers = {},
                              const std::string& model = "qwen2.5-coder:7b") {
  return http_post(sim.base_url(), "/api/chat", chat_body(model, prompt, stream), headers);
}

inline http_reply openai_chat(sim_process& sim, const std::string& prompt, bool stream,
                              const std::map<std::string, std::string>& headers = {},
                              const std::string& model = "gpt-4o-mini",
                              const std::string& extra = "") {
  return http_post(sim.base_url(), "/v1/chat/completions", chat_body(model, prompt, stream, extra),
                   headers);
}

inline rapidjson::Document parse(const std::string& text) {
  return codehive::test::parse_any(text);
}

inline bool is_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return !d.HasParseError();
}

/// Non-empty lines of an NDJSON body.
inline std::vector<std::string> lines(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    if (nl > pos) out.push_back(body.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

/// Payloads of the "data: " lines of an SSE body.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  for (const auto& l : lines(body))
    if (l.rfind("data: ", 0) == 0) out.push_back(l.substr(6));
  return out;
}

/// Ollama content from a non-streamed body, or the concatenation of a stream's pieces.
inline std::string ollama_content(const std::string& body, bool stream) {
  if (!stream) return parse(body)["message"]["content"].GetString();
  std::string out;
  for (const auto& l : lines(body)) out += parse(l)["message"]["content"].GetString();
  return out;
}

inline std::string openai_content(const std::string& body, bool stream) {
  if (!stream) return parse(body)["choices"][0]["message"]["content"].GetString();
  std::string out;
  for (const auto& d : sse_data(body)) {
    if (d == "[DONE]") break;
    auto doc = parse(d);
    const auto& choices = doc["choices"];
    if (choices.Empty()) continue;
    const auto& delta = choices[0]["delta"];
    if (delta.HasMember("content")) out += delta["content"].GetString();
  }
  return out;
}

/// A POST whose body arrives piece by piece: records when each piece came.
struct timed_reply {
  int status = -1;
  std::string body;
  std::vector<std::chrono::milliseconds> arrivals;  ///< since the request was sent
  std::chrono::milliseconds total{0};
};

inline timed_reply timed_post(const std::string& base_url, const std::string& path,
                              const std::string& body,
                              const std::map<std::string, std::string>& headers = {}) {
  using clock = std::chrono::steady_clock;
  httplib::Client cli(base_url);
  cli.set_read_timeout(30, 0);
  timed_reply out;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  for (const auto& [k, v] : headers) req.set_header(k, v);
  const auto t0 = clock::now();
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    out.body.append(data, n);
    out.arrivals.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0));
    return true;
  };
  auto res = cli.send(req);
  out.total = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0);
  if (res) out.status = res->status;
  return out;
}

}  // namespace sim_test
