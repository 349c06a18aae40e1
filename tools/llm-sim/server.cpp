#include "server.hpp"

#include <httplib.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

server::server(scenario s, std::uint64_t seed, int threads, personality p)
    : scenario_(std::move(s)),
      persona_(std::move(p)),
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
  // Replacing httplib's socket options drops its own; TCP_NODELAY is set here
  // (accepted sockets inherit it from the listening one). Without it a reply
  // written as headers then body waits for the client's delayed ACK: every
  // call on a kept-alive connection took 40-50 ms instead of 2 ms, which at
  // zero latency was the whole cost of a call (a coordinator's summaries ran
  // at 75 a second).
  http_->set_tcp_nodelay(true);
  http_->set_socket_options([this](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    listen_socket_ = sock;
  });
  if (persona_.gates_slots()) {
    model_runtime::settings rs;
    rs.slots = persona_.num_parallel;
    rs.max_queue = persona_.max_queue;
    rs.reloads = persona_.ollama_like();
    rs.reload_ms = persona_.ollama_like() ? persona_.reload_ms : 0;
    rs.default_num_ctx = persona_.default_num_ctx;
    runtime_ = std::make_unique<model_runtime>(rs, stop_);
  }
  install_routes();
  if (persona_.active()) install_personality_routes();
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
  h.Get("/api/tags", [this](const httplib::Request& req, httplib::Response& res) {
    if (persona_.active() && !persona_.ollama_like()) {
      refuse(res, not_found_endpoint(persona_, req.method, req.path), false);
      return;
    }
    res.set_content(model_list_ollama(), "application/json");
  });
  h.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    if (auto a = check_auth(persona_, carries_bearer(req))) {
      refuse(res, *a, false);
      return;
    }
    res.set_content(model_list_openai(), "application/json");
  });
  h.Post("/api/chat", [this](const httplib::Request& req, httplib::Response& res) {
    handle_chat(api_kind::ollama, req, res);
  });
  h.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_chat(api_kind::openai, req, res);
  });
  h.Get("/sim/stats", [this](const httplib::Request&, httplib::Response& res) {
    std::string body = stats_.to_json();
    if (runtime_) body.insert(body.size() - 1, "," + runtime_->stats_members());
    res.set_content(body, "application/json");
  });
  h.Post("/sim/reset", [this](const httplib::Request&, httplib::Response& res) {
    stats_.reset();
    if (runtime_) runtime_->reset_counts();
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
  std::vector<std::string> models = scenario_.models;
  // llama-server serves one model (its alias or file) whatever a request names.
  if (persona_.kind == persona::llamacpp) {
    models.resize(1);
    if (models[0].empty()) models[0] = "llm-sim-model";
  }
  const char* owner = "llm-sim";
  switch (persona_.kind) {
    case persona::ollama:
    case persona::ollama_thinking: owner = "library"; break;
    case persona::openai:
    case persona::openai_reasoning: owner = "system"; break;
    case persona::vllm: owner = "vllm"; break;
    case persona::llamacpp: owner = "llamacpp"; break;
    case persona::lmstudio: owner = "organization_owner"; break;
    case persona::none: break;
  }
  for (const auto& m : models) {
    w.StartObject();
    w.Key("id");
    w.String(m.c_str());
    w.Key("object");
    w.String("model");
    w.Key("created");
    w.Int64(started_unix_);
    w.Key("owned_by");
    w.String(owner);
    if (persona_.kind == persona::vllm) {  // vLLM's ModelCard
      w.Key("root");
      w.String(m.c_str());
      w.Key("parent");
      w.Null();
      w.Key("max_model_len");
      w.Int64(persona_.context_length);
    }
    if (persona_.kind == persona::llamacpp) {  // llama-server's /v1/models "meta"
      w.Key("meta");
      w.StartObject();
      w.Key("vocab_type");
      w.Int(2);
      w.Key("n_vocab");
      w.Int(151936);
      w.Key("n_ctx_train");
      w.Int64(persona_.context_length);
      w.Key("n_embd");
      w.Int(3584);
      w.Key("n_params");
      w.Int64(7615616512LL);
      w.Key("size");
      w.Int64(4683071488LL);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void server::handle_chat(api_kind api, const httplib::Request& req, httplib::Response& res) {
  auto in_flight = stats_.enter();
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

  // A personality refuses first what the real server refuses before reading the
  // request: an endpoint it does not have, then a missing API key.
  if (!persona_.serves(api)) {
    log("-", refuse(res, not_found_endpoint(persona_, req.method, req.path)));
    return;
  }
  if (auto a = check_auth(persona_, cr.has_bearer)) {
    log("-", refuse(res, *a));
    return;
  }
  if (bad) {
    stats_.count_rejected("bad_request");
    send_error(res, fmt, 400, *bad, "invalid_request");
    log("-", "400 " + *bad);
    return;
  }
  if (!model_known(cr.model)) {
    if (persona_.active()) {
      log("-", refuse(res, unknown_model(persona_, api, cr.model)));
      return;
    }
    stats_.count_rejected("unknown_model");
    send_error(res, fmt, 404, "model \"" + cr.model + "\" not found, try pulling it first",
               "model_not_found");
    log("-", "404 unknown model");
    return;
  }
  if (auto r = check_request(persona_, cr)) {
    log("-", refuse(res, *r));
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

  // Ollama / llama.cpp: wait for the model (loading or reloading it) and a slot.
  // The wait comes before the first byte, as on the real servers.
  std::chrono::nanoseconds load{0};
  if (runtime_) {
    const bool unload = cr.keep_alive && (*cr.keep_alive == "0" || *cr.keep_alive == "0s" ||
                                          *cr.keep_alive == "0m");
    const std::string model = persona_.kind == persona::llamacpp ? "default" : cr.model;
    auto adm = runtime_->acquire(model, cr.runner_options, unload);
    if (!adm.slot) {
      if (adm.queue_full) {
        refusal_reply busy;
        busy.status = 503;
        busy.body = fmt.error_body(503, "server busy, please try again.  maximum pending requests exceeded", "server_busy");
        busy.why = "queue_full";
        log("-", refuse(res, busy));
      } else {
        send_error(res, fmt, 503, "server stopping", "service_unavailable");
        log("-", "stopped");
      }
      return;
    }
    load = adm.load;
    // The slot is held as long as the reply is: with the in-flight mark.
    in_flight = std::shared_ptr<void>(
        new std::pair<std::shared_ptr<void>, std::shared_ptr<void>>(std::move(in_flight), std::move(adm.slot)),
        [](void* p) { delete static_cast<std::pair<std::shared_ptr<void>, std::shared_ptr<void>>*>(p); });
  }
  const auto started = steady::now();

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
      serve_entry(*e, d, cr, fmt, started, std::move(in_flight), load, res);
  log(rule_name, (d.random_fault ? "random " : "") + outcome);
}

std::string server::refuse(httplib::Response& res, const refusal_reply& r, bool count) {
  if (count) stats_.count_rejected(r.why);
  res.status = r.status;
  res.set_content(r.body, r.content_type);
  return std::to_string(r.status) + " " + r.why;
}

bool server::model_known(const std::string& model) const {
  if (scenario_.models.empty() || !checks_model_name(persona_)) return true;
  return std::find(scenario_.models.begin(), scenario_.models.end(), model) !=
         scenario_.models.end();
}

std::string server::serve_entry(const response_entry& e, const decision& d,
                                const chat_request& cr, const api_format& fmt,
                                steady::time_point started, std::shared_ptr<void> in_flight,
                                std::chrono::nanoseconds load, httplib::Response& res) {
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
  info->load = load;
  info->rich = persona_.openai_like();
  // OpenAI has a refusal field; on Ollama's API a refusal is just the text.
  info->refusal = e.is_refusal && cr.api == api_kind::openai;
  if (thinks(persona_, cr)) {
    // A thinking model asked for structured output answers inside its thinking
    // and leaves content empty (ollama/ollama#11545, HarperFast/harper#1805).
    const bool structured = cr.api == api_kind::ollama ? cr.has_format : !cr.response_format.empty();
    if (structured) {
      info->thinking = info->content;
      info->content.clear();
    } else {
      info->thinking = "Okay, let me think about what is asked here before I answer.";
    }
    info->reasoning_tokens = estimate_tokens(*info->thinking);
    if (!e.completion_tokens) info->completion_tokens += info->reasoning_tokens;
  }

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
        // Thinking (personalities only) streams first, then the content.
        std::vector<paced_piece> thought;
        if (info->thinking) thought = pace(*info->thinking, lat, info->reasoning_tokens);
        const auto offset = generation_time(lat, info->reasoning_tokens);
        const auto pieces =
            pace(info->content, lat, info->completion_tokens - info->reasoning_tokens);
        auto write = [&sink](const std::string& s) {
          return s.empty() || sink.write(s.data(), s.size());
        };
        if (!write(fmt.stream_begin(*info))) return false;
        for (const auto& piece : thought) {
          if (!stop_.wait_until(t0 + piece.due)) return false;
          if (!write(fmt.stream_piece(*info, piece.text, true))) return false;
        }
        const std::size_t limit = truncated ? pieces.size() / 2 : pieces.size();
        for (std::size_t i = 0; i < limit; ++i) {
          if (!stop_.wait_until(t0 + offset + pieces[i].due)) return false;
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
