#include "server.hpp"

#include <httplib.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

namespace llm_sim {

namespace {

using steady = std::chrono::steady_clock;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool carries_bearer(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  return auth.size() > 7 && ::strncasecmp(auth.c_str(), "Bearer ", 7) == 0;
}

const char* fault_code(int status) {
  switch (status) {
    case 429: return "rate_limit_exceeded";
    case 400: return "bad_request";
    case 404: return "not_found";
    case 503: return "service_unavailable";
    default: return "server_error";
  }
}

}  // namespace

server::server(scenario s, std::uint64_t seed, int threads)
    : scenario_(std::move(s)),
      selector_(scenario_, seed),
      ollama_(make_ollama_format()),
      openai_(make_openai_format()),
      http_(std::make_unique<httplib::Server>()),
      started_unix_(unix_now()) {
  const auto n = static_cast<std::size_t>(std::max(1, threads));
  http_->new_task_queue = [n] { return new httplib::ThreadPool(n); };
  // Idle keep-alive connections hold a thread and delay shutdown until they time out.
  http_->set_keep_alive_timeout(2);
  http_->set_keep_alive_max_count(1000);
  http_->set_payload_max_length(std::size_t{1} << 30);  // prompts carry whole files
  // cpp-httplib 0.11 listens with a backlog of 5, which drops connections when
  // tens of clients connect at once; remember the socket to raise it in bind().
  http_->set_socket_options([this](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket_ = sock;
  });
  install_routes();
}

server::~server() = default;

int server::bind(const std::string& host, int port) {
  const int bound = port == 0 ? http_->bind_to_any_port(host)
                              : (http_->bind_to_port(host, port) ? port : -1);
  if (bound > 0 && listen_socket_ >= 0) ::listen(listen_socket_, 1024);  // raises the backlog
  return bound;
}

bool server::run() {
  bool ok = true;
  if (!stop_.stopped()) ok = http_->listen_after_bind();
  finished_ = true;
  return ok;
}

void server::stop() {
  stop_.trigger();
  // httplib ignores stop() before listen_after_bind() runs: wait until it runs
  // (or run() has seen the stop and returned).
  while (!http_->is_running() && !finished_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

void server::send_error(httplib::Response& res, const api_format& fmt, int status,
                        const std::string& message, const std::string& code) {
  res.status = status;
  res.set_content(fmt.error_body(status, message, code), "application/json");
}

void server::install_routes() {
  auto& h = *http_;
  h.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Ollama is running", "text/plain");
  });
  h.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"version":"0.0.0-llm-sim"})", "application/json");
  });
  h.Get("/api/tags", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(model_list_ollama(), "application/json");
  });
  h.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(model_list_openai(), "application/json");
  });
  h.Post("/api/chat", [this](const httplib::Request& req, httplib::Response& res) {
    handle_chat(api_kind::ollama, req, res);
  });
  h.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_chat(api_kind::openai, req, res);
  });
  h.Get("/sim/stats", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(stats_.to_json(), "application/json");
  });
  h.Post("/sim/reset", [this](const httplib::Request&, httplib::Response& res) {
    stats_.reset();
    selector_.reset();
    spdlog::info("reset: counts zeroed, sequences rewound");
    res.set_content(R"({"reset":true})", "application/json");
  });
}

std::string server::model_list_ollama() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("models");
  w.StartArray();
  for (const auto& m : scenario_.models) {
    w.StartObject();
    w.Key("name");
    w.String(m.c_str());
    w.Key("model");
    w.String(m.c_str());
    w.Key("modified_at");
    w.String("2024-01-01T00:00:00Z");
    w.Key("size");
    w.Int64(0);
    w.Key("digest");
    w.String("llm-sim");
    w.Key("details");
    w.StartObject();
    w.Key("format");
    w.String("gguf");
    w.Key("family");
    w.String("llm-sim");
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string server::model_list_openai() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("object");
  w.String("list");
  w.Key("data");
  w.StartArray();
  for (const auto& m : scenario_.models) {
    w.StartObject();
    w.Key("id");
    w.String(m.c_str());
    w.Key("object");
    w.String("model");
    w.Key("created");
    w.Int64(started_unix_);
    w.Key("owned_by");
    w.String("llm-sim");
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void server::handle_chat(api_kind api, const httplib::Request& req, httplib::Response& res) {
  auto in_flight = stats_.enter();
  const auto started = steady::now();
  const api_format& fmt = api == api_kind::ollama ? *ollama_ : *openai_;

  chat_request cr;
  cr.api = api;
  cr.role = req.get_header_value("X-Codehive-Role");
  cr.path = req.get_header_value("X-Codehive-Path");
  cr.has_bearer = carries_bearer(req);
  const auto bad = parse_chat_body(req.body, api, cr);
  stats_.count_request(cr);

  auto log = [&](const std::string& rule, const std::string& outcome) {
    spdlog::info("{} model={} role={} path={} stream={} rule={} -> {}", to_string(api),
                 cr.model, cr.role.empty() ? "-" : cr.role, cr.path.empty() ? "-" : cr.path,
                 cr.stream, rule, outcome);
  };

  if (bad) {
    stats_.count_rejected("bad_request");
    send_error(res, fmt, 400, *bad, "invalid_request");
    log("-", "400 " + *bad);
    return;
  }
  if (!scenario_.models.empty() &&
      std::find(scenario_.models.begin(), scenario_.models.end(), cr.model) ==
          scenario_.models.end()) {
    stats_.count_rejected("unknown_model");
    send_error(res, fmt, 404, "model \"" + cr.model + "\" not found, try pulling it first",
               "model_not_found");
    log("-", "404 unknown model");
    return;
  }
  if (api == api_kind::openai && cr.wants_json_schema && !scenario_.openai_json_schema) {
    stats_.count_rejected("json_schema_unsupported");
    send_error(res, fmt, 400,
               "response_format json_schema is unsupported by this server "
               "(use response_format json_object)",
               "json_schema_unsupported");
    log("-", "400 json_schema unsupported");
    return;
  }

  const decision d = selector_.choose(cr);
  const std::string rule_name = d.matched ? d.matched->name : "(none)";
  if (d.matched)
    stats_.count_rule(d.matched->name);
  else
    stats_.count_unmatched();
  const response_entry* e = d.entry();
  if (e == nullptr) {
    send_error(res, fmt, 404, "no rule matched", "no_rule_matched");
    log(rule_name, "404 no rule matched");
    return;
  }
  if (e->is_fault) stats_.count_fault(e->fault);
  const std::string outcome =
      serve_entry(*e, d, cr, fmt, started, std::move(in_flight), res);
  log(rule_name, (d.random_fault ? "random " : "") + outcome);
}

std::string server::serve_entry(const response_entry& e, const decision& d,
                                const chat_request& cr, const api_format& fmt,
                                steady::time_point started, std::shared_ptr<void> in_flight,
                                httplib::Response& res) {
  const std::string kind = e.is_fault ? e.fault : "answer";
  if (const int status = e.is_fault ? fault_status(e.fault) : 0; status != 0) {
    if (status == 429) res.set_header("Retry-After", std::to_string(e.retry_after_s));
    send_error(res, fmt, status, "simulated fault: HTTP " + e.fault, fault_code(status));
    return "fault " + e.fault;
  }
  if (kind == "hang") {
    const int ms = e.hang_ms.value_or(scenario_.hang_ms);
    const bool ended = stop_.wait_for(std::chrono::milliseconds(ms));
    send_error(res, fmt, ended ? 504 : 503,
               ended ? "simulated hang ended after " + std::to_string(ms) + " ms"
                     : "server stopping",
               "timeout");
    return "fault hang";
  }

  auto info = std::make_shared<reply_info>();
  info->model = cr.model;
  info->content = kind == "empty" ? std::string{} : e.text;
  info->prompt_tokens = e.prompt_tokens.value_or(estimate_tokens(cr.prompt));
  info->completion_tokens = e.completion_tokens.value_or(estimate_tokens(info->content));
  info->include_usage = cr.include_usage;
  info->id = "chatcmpl-sim-" + std::to_string(next_id_++);
  info->created = unix_now();
  info->started = started;

  // Time to first token: nothing (not even headers) is sent before it.
  if (!stop_.wait_until(started + std::chrono::milliseconds(d.latency.ttft_ms))) {
    send_error(res, fmt, 503, "server stopping", "service_unavailable");
    return "stopped";
  }
  info->prompt_eval = steady::now() - started;

  if (kind == "malformed") {
    res.status = 200;
    if (!cr.stream)
      res.set_content("<html><body>simulated malformed reply: this is not JSON</body></html>",
                      "application/json");
    else if (cr.api == api_kind::ollama)
      res.set_content("simulated malformed chunk {not json\n", fmt.stream_content_type());
    else
      res.set_content("data: simulated malformed chunk {not json\n\n", fmt.stream_content_type());
    return "fault malformed";
  }
  const bool truncated = kind == "truncated";

  if (!cr.stream) {
    if (!stop_.wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(
            generation_time(d.latency, info->completion_tokens)))) {
      send_error(res, fmt, 503, "server stopping", "service_unavailable");
      return "stopped";
    }
    std::string body = fmt.body(*info);
    if (truncated) body.resize(body.size() / 2);
    res.status = 200;
    res.set_content(body, "application/json");
    return truncated ? "fault truncated" : kind == "empty" ? "fault empty" : "200";
  }

  res.status = 200;
  const latency_model lat = d.latency;
  res.set_chunked_content_provider(
      fmt.stream_content_type(),
      [this, info, lat, truncated, &fmt, in_flight](std::size_t, httplib::DataSink& sink) {
        const auto t0 = steady::now();
        const auto pieces = pace(info->content, lat, info->completion_tokens);
        auto write = [&sink](const std::string& s) {
          return s.empty() || sink.write(s.data(), s.size());
        };
        if (!write(fmt.stream_begin(*info))) return false;
        const std::size_t limit = truncated ? pieces.size() / 2 : pieces.size();
        for (std::size_t i = 0; i < limit; ++i) {
          if (!stop_.wait_until(t0 + pieces[i].due)) return false;
          if (!write(fmt.stream_piece(*info, pieces[i].text))) return false;
        }
        std::string end = fmt.stream_end(*info);
        if (truncated) end.resize(end.size() / 2);  // cut inside the final chunk
        if (!write(end)) return false;
        sink.done();
        return true;
      });
  return truncated ? "fault truncated (stream)" : kind == "empty" ? "fault empty (stream)"
                                                                  : "200 (stream)";
}

}  // namespace llm_sim
