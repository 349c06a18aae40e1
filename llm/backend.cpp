#include "llm/backend.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "llm/context_guard.hpp"
#include "llm/retry.hpp"
#include "llm/structured.hpp"

namespace codehive::llm::detail {

namespace {

using clock_type = std::chrono::steady_clock;

error make_error(errc code, std::string message) {
  error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

std::string header_safe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v)
    if (c != '\r' && c != '\n') out.push_back(c);
  return out;
}

std::string snippet(std::string_view s, std::size_t n = 200) {
  std::string out(s.substr(0, n));
  for (auto& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  if (s.size() > n) out += "...";
  return out;
}

}  // namespace

// ---- stream_parser ---------------------------------------------------------

void stream_parser::feed(std::string_view data) {
  buf_.append(data);
  std::size_t pos = 0;
  for (;;) {
    auto nl = buf_.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(buf_.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) on_line(line);
    pos = nl + 1;
  }
  buf_.erase(0, pos);
}

result<parsed_reply> stream_parser::finish() {
  std::string rest;
  rest.swap(buf_);
  std::string_view line(rest);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
  if (!line.empty()) on_line(line);
  if (error_) return *error_;
  return done();
}

void stream_parser::fail(errc code, std::string message) {
  if (!error_) error_ = make_error(code, std::move(message));
}

// ---- basic_client ----------------------------------------------------------

basic_client::basic_client(http_loop& loop, endpoint_config cfg) : loop_(loop), cfg_(std::move(cfg)) {
  while (!cfg_.spec.base_url.empty() && cfg_.spec.base_url.back() == '/') cfg_.spec.base_url.pop_back();
}

const char* basic_client::api_name() const noexcept {
  return cfg_.spec.kind == api::ollama ? "ollama" : "openai";
}

std::string basic_client::server_error_text(const http_response& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (!d.HasParseError() && d.IsObject()) {
    auto it = d.FindMember("error");
    if (it != d.MemberEnd()) {
      if (it->value.IsString()) return it->value.GetString();
      if (it->value.IsObject()) {
        auto m = it->value.FindMember("message");
        if (m != it->value.MemberEnd() && m->value.IsString()) return m->value.GetString();
      }
    }
    auto m = d.FindMember("message");
    if (m != d.MemberEnd() && m->value.IsString()) return m->value.GetString();
  }
  if (r.body.empty()) return "(empty body)";
  return snippet(r.body);
}

int basic_client::retry_after_ms(const http_response& r) {
  auto v = r.header("retry-after");
  if (!v || v->empty()) return -1;
  const std::string& s = *v;
  if (std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; })) {
    char* end = nullptr;
    double secs = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || secs < 0) return -1;
    return static_cast<int>(std::min(secs * 1000.0, 24.0 * 3600 * 1000));
  }
  time_t when = curl_getdate(s.c_str(), nullptr);
  if (when < 0) return -1;
  auto delta = static_cast<double>(when - std::time(nullptr));
  return static_cast<int>(std::clamp(delta * 1000.0, 0.0, 24.0 * 3600 * 1000));
}

bool basic_client::model_matches(const std::string& listed) const {
  const auto& want = cfg_.spec.model;
  if (listed == want) return true;
  auto has_tag = [](const std::string& s) { return s.find(':') != std::string::npos; };
  if (!has_tag(want) && listed == want + ":latest") return true;
  if (!has_tag(listed) && want == listed + ":latest") return true;
  return false;
}

void basic_client::decorate(http_request& h, const chat_request* req, std::chrono::milliseconds timeout) const {
  h.endpoint = cfg_.spec.base_url;
  h.max_in_flight = std::max(1, cfg_.max_in_flight);
  h.connect_timeout = cfg_.connect_timeout;
  h.timeout = timeout;
  h.headers.emplace_back("Accept", "application/json");
  if (!h.body.empty()) h.headers.emplace_back("Content-Type", "application/json");
  if (req != nullptr) {
    if (!req->role.empty()) h.headers.emplace_back("X-Codehive-Role", header_safe(req->role));
    if (!req->path.empty()) h.headers.emplace_back("X-Codehive-Path", header_safe(req->path));
  }
  if (!cfg_.api_key_env.empty()) {
    const char* key = std::getenv(cfg_.api_key_env.c_str());
    if (key != nullptr && *key != '\0') {
      h.headers.emplace_back("Authorization", "Bearer " + header_safe(key));
    } else {
      static std::atomic<bool> warned{false};
      if (!warned.exchange(true))
        spdlog::warn("llm: API key variable {} is not set; calling {} without a key", cfg_.api_key_env,
                     cfg_.spec.base_url);
    }
  }
}

void basic_client::chat(chat_request req, chat_callback cb) {
  auto st = std::make_shared<call_state>();
  st->req = std::move(req);
  st->cb = std::move(cb);
  st->start = clock_type::now();
  st->estimated_prompt_tokens = estimate_prompt_tokens(st->req);

  std::optional<error> refused;
  if (auto ok = check_context(st->req, cfg_.context_tokens); !ok) {
    refused = ok.err();
  } else if (cfg_.gate && !cfg_.gate(st->req, st->estimated_prompt_tokens)) {
    refused = make_error(errc::budget_refused, "budget refused a " + (st->req.role.empty() ? std::string("model") : st->req.role) +
                                                   " call of about " + std::to_string(st->estimated_prompt_tokens) +
                                                   " prompt tokens");
  }
  auto self = shared_from_this();
  if (refused) {
    refused->attempts = 0;
    loop_.post([self, st, e = std::move(*refused)]() mutable { self->complete(st, std::move(e), std::nullopt, 0); });
    return;
  }
  loop_.post([self, st] { self->attempt(st); });
}

void basic_client::attempt(std::shared_ptr<call_state> st) {
  auto built = build_chat(*st);
  if (!built) {
    complete(st, std::move(built).err(), std::nullopt, 0);
    return;
  }
  http_request h = std::move(built).value();
  decorate(h, &st->req, st->req.timeout.value_or(cfg_.call_timeout));
  std::shared_ptr<stream_parser> parser;
  if (st->req.stream) {
    parser = make_stream_parser();
    h.on_chunk = [parser](std::string_view data) {
      parser->feed(data);
      return true;
    };
  }
  ++st->attempts;
  auto self = shared_from_this();
  loop_.submit(std::move(h), [self, st, parser](http_result r) mutable {
    self->on_attempt(std::move(st), std::move(parser), std::move(r));
  });
}

void basic_client::on_attempt(std::shared_ptr<call_state> st, std::shared_ptr<stream_parser> parser,
                              http_result r) {
  if (!r) {
    retry_or_fail(std::move(st), std::move(r).err(), std::nullopt);
    return;
  }
  auto& resp = r.value();
  st->last_status = static_cast<int>(resp.status);
  if (resp.status < 200 || resp.status > 299) {
    error e = make_error(errc::http_status, "HTTP " + std::to_string(resp.status) + " from " + cfg_.spec.base_url +
                                                ": " + server_error_text(resp));
    e.http_status = static_cast<int>(resp.status);
    e.retry_after_ms = retry_after_ms(resp);
    if (adapt_after_error(*st, e)) {
      attempt(std::move(st));
      return;
    }
    retry_or_fail(std::move(st), std::move(e), std::nullopt);
    return;
  }
  double secs = std::chrono::duration<double>(resp.elapsed).count();
  auto parsed = parser ? parser->finish() : parse_chat(resp);
  if (!parsed) {
    complete(std::move(st), std::move(parsed).err(), std::nullopt, secs);
    return;
  }
  auto& got = parsed.value();
  on_success(*st);
  if (got.content.empty()) {
    complete(std::move(st),
             make_error(errc::empty_answer, "the model answered with empty content (finish_reason " +
                                                (got.finish_reason.empty() ? std::string("unknown") : got.finish_reason) +
                                                ")"),
             got, secs);
    return;
  }
  chat_response out;
  out.finish_reason = got.finish_reason;
  if (st->req.json_schema) {
    auto checked = extract_and_validate(got.content, *st->req.json_schema);
    if (!checked) {
      complete(std::move(st), std::move(checked).err(), got, secs);
      return;
    }
    out.content = std::move(checked).value();
  } else {
    out.content = got.content;
  }
  complete(std::move(st), std::move(out), got, secs);
}

void basic_client::retry_or_fail(std::shared_ptr<call_state> st, error e, const std::optional<parsed_reply>& got) {
  if (should_retry(e, st->retries, cfg_)) {
    auto delay = retry_delay(e, st->retries, cfg_);
    ++st->retries;
    spdlog::debug("llm retry api={} role={} path={} model={} after={} in_ms={} attempt={}", api_name(), st->req.role,
                  st->req.path, cfg_.spec.model, e.describe(), delay.count(), st->attempts + 1);
    auto self = shared_from_this();
    loop_.schedule(delay, [self, st] { self->attempt(st); });
    return;
  }
  complete(std::move(st), std::move(e), got, 0);
}

void basic_client::complete(std::shared_ptr<call_state> st, result<chat_response> r,
                            const std::optional<parsed_reply>& got, double attempt_seconds) {
  usage u;
  u.role = st->req.role;
  u.model = cfg_.spec.model;
  u.attempts = st->attempts;
  u.latency = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - st->start);
  if (got) {
    u.prompt_tokens = got->prompt_tokens.value_or(st->estimated_prompt_tokens);
    u.completion_tokens = got->completion_tokens.value_or(estimate_tokens(got->content));
    if (got->tokens_per_s > 0)
      u.tokens_per_s = got->tokens_per_s;
    else if (attempt_seconds > 0)
      u.tokens_per_s = static_cast<double>(u.completion_tokens) / attempt_seconds;
  }
  u.cost_usd = static_cast<double>(u.prompt_tokens) * cfg_.price_prompt_per_mtok / 1e6 +
               static_cast<double>(u.completion_tokens) * cfg_.price_completion_per_mtok / 1e6;
  if (!r) {
    error e = std::move(r).err();
    e.attempts = st->attempts;
    spdlog::debug("llm call api={} role={} path={} model={} outcome={} http={} prompt_tokens={} completion_tokens={} "
                  "attempts={} ms={} error=\"{}\"",
                  api_name(), u.role, st->req.path, u.model, to_string(e.code), st->last_status, u.prompt_tokens,
                  u.completion_tokens, u.attempts, u.latency.count(), e.message);
    if (cfg_.on_usage) cfg_.on_usage(u, e.code);
    if (st->cb) st->cb(std::move(e));
    return;
  }
  r.value().use = u;
  spdlog::debug("llm call api={} role={} path={} model={} outcome=ok http={} prompt_tokens={} completion_tokens={} "
                "attempts={} ms={}",
                api_name(), u.role, st->req.path, u.model, st->last_status, u.prompt_tokens, u.completion_tokens,
                u.attempts, u.latency.count());
  if (cfg_.on_usage) cfg_.on_usage(u, std::nullopt);
  if (st->cb) st->cb(std::move(r));
}

void basic_client::health(health_callback cb) {
  auto self = shared_from_this();
  http_request h = build_health();
  decorate(h, nullptr, std::min(cfg_.call_timeout, std::chrono::milliseconds{10000}));
  loop_.submit(std::move(h), [self, cb = std::move(cb)](http_result r) {
    if (!r) {
      error e = std::move(r).err();
      cb(std::move(e));
      return;
    }
    auto& resp = r.value();
    if (resp.status < 200 || resp.status > 299) {
      error e = make_error(errc::http_status, "HTTP " + std::to_string(resp.status) + " from " +
                                                  self->cfg_.spec.base_url + ": " + server_error_text(resp));
      e.http_status = static_cast<int>(resp.status);
      cb(std::move(e));
      return;
    }
    auto models = self->parse_models(resp);
    if (!models) {
      cb(std::move(models).err());
      return;
    }
    health_report rep;
    rep.reachable = true;
    rep.models = std::move(models).value();
    rep.model_present = std::any_of(rep.models.begin(), rep.models.end(),
                                    [&](const std::string& m) { return self->model_matches(m); });
    if (!rep.model_present) {
      cb(make_error(errc::model_missing, self->missing_model_message(rep.models)));
      return;
    }
    cb(std::move(rep));
  });
}

}  // namespace codehive::llm::detail
