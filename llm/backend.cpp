#include "llm/backend.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <map>

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

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// Moves a leading <think>...</think> block of `content` into `thinking` and
// returns the rest (the answer).
std::string split_inline_thinking(const std::string& content, std::string& thinking) {
  std::string_view c(content);
  auto lead = c.find_first_not_of(" \t\r\n");
  if (lead == std::string_view::npos || c.substr(lead, 7) != "<think>") return content;
  auto close = c.find("</think>", lead);
  if (close == std::string_view::npos) {
    // Thinking that never ended: no answer at all.
    thinking += std::string(c.substr(lead + 7));
    return {};
  }
  thinking += std::string(c.substr(lead + 7, close - lead - 7));
  return std::string(c.substr(close + 8));
}

std::string empty_message(const parsed_reply& got) {
  std::string m = "the model answered with empty content (finish_reason " +
                  (got.finish_reason.empty() ? std::string("unknown") : got.finish_reason) + ")";
  if (!got.thinking.empty())
    m += " after " + std::to_string(got.thinking.size()) +
         " characters of thinking, which are not taken as the answer; a thinking model may need thinking off "
         "(Ollama think: false) or a larger reply cap";
  return m;
}

/// A streamed reply: from going on the wire to its first token; otherwise to
/// the first byte of the body (the whole answer comes at once).
std::optional<std::chrono::milliseconds> time_to_first_token(const call_state& st, bool streamed,
                                                             const http_response& resp) {
  if (!streamed) return resp.first_byte;
  if (!st.first_token_at) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*st.first_token_at - resp.sent_at);
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

void stream_parser::fail_unparsed(std::string_view text, const rapidjson::Document& d, const char* unit) {
  if (d.HasParseError() && !text.empty() && text.front() == '{' && d.GetErrorOffset() >= text.size())
    fail(errc::truncated, "stream from " + from_ + " cut off in the middle of " + unit);
  else
    fail(errc::bad_json,
         "stream from " + from_ + " has " + unit + " that is not JSON: " + std::string(text.substr(0, 120)));
}

error stream_parser::ended_without(const std::string& what, std::size_t characters_received) const {
  return make_error(errc::truncated, "stream from " + from_ + " ended without " + what + " (" +
                                         std::to_string(characters_received) + " characters received)");
}

// ---- basic_client ----------------------------------------------------------

basic_client::basic_client(http_loop& loop, endpoint_config cfg) : loop_(loop), cfg_(std::move(cfg)) {
  while (!cfg_.spec.base_url.empty() && cfg_.spec.base_url.back() == '/') cfg_.spec.base_url.pop_back();
  sp_ = shared_profile_for(loop_, cfg_);
  // Every secret this endpoint sends is scrubbed from any server text.
  // Keys are read at use from the variables the config names: no settings struct holds one.
  if (!cfg_.api_key_env.empty())
    if (const char* key = std::getenv(cfg_.api_key_env.c_str())) register_secret(key);
  for (const auto& [name, value] : cfg_.headers) {
    bool secret = false;
    auto v = expand_env(value, secret);
    if (secret) register_secret(v);
  }
}

std::shared_ptr<basic_client::shared_profile> basic_client::shared_profile_for(const http_loop& loop,
                                                                               const endpoint_config& cfg) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<shared_profile>> live;
  const auto& p = cfg.profile;
  auto pin = [](const auto& o) { return o ? std::to_string(static_cast<int>(*o)) : std::string("-"); };
  std::string base = cfg.spec.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string key = std::to_string(reinterpret_cast<std::uintptr_t>(&loop)) + '|' +
                    std::to_string(static_cast<int>(cfg.spec.kind)) + '|' + base + '|' + cfg.spec.model + '|' +
                    cfg.spec.query + '|' + pin(p.structured) + pin(p.temperature) + pin(p.max_completion_tokens) +
                    pin(p.think);
  std::lock_guard lk{mu};
  for (auto it = live.begin(); it != live.end();) it = it->second.expired() ? live.erase(it) : std::next(it);
  if (auto found = live[key].lock()) return found;
  auto sp = std::make_shared<shared_profile>();
  auto start = initial_profile(cfg);
  sp->structured = static_cast<int>(start.structured);
  sp->temperature = start.temperature;
  sp->cap_name = start.max_completion_tokens ? 1 : 0;
  sp->think = start.think;
  live[key] = sp;
  return sp;
}

profile_report basic_client::profile() const {
  auto r = initial_profile(cfg_);
  r.structured = structured_now();
  r.temperature = temperature_now();
  r.max_completion_tokens = cap_name_now() == 1;
  r.max_tokens_dropped = cap_name_now() == 2;
  r.think = think_now();
  std::lock_guard lk{sp_->mu};
  r.learned = sp_->learned;
  return r;
}

std::string basic_client::url(std::string_view path) const {
  std::string out = cfg_.spec.base_url;
  out += path;
  if (!cfg_.spec.query.empty()) {
    out += '?';
    out += cfg_.spec.query;
  }
  return out;
}

result<unit> basic_client::begin_chat(call_state& st, chat_body& body) {
  const auto& req = st.req;
  if (req.json_schema) {
    if (auto ok = parse_schema(*req.json_schema, body.schema); !ok) return std::move(ok).err();
  }
  auto& w = body.w;
  st.sent = {};
  st.sent_structured = structured_now();
  w.StartObject();
  w.Key("model");
  write_string(w, cfg_.spec.model);
  write_messages(w, req);
  w.Key("stream");
  w.Bool(req.stream);
  return unit{};
}

result<http_request> basic_client::build_chat(call_state& st) {
  chat_body body;
  if (auto ok = begin_chat(st, body); !ok) return std::move(ok).err();
  auto path = write_chat(st, body);
  body.w.EndObject();
  return post_json(path, body);
}

result<parsed_reply> basic_client::parse_chat(const http_response& r) {
  rapidjson::Document d;
  if (auto ok = parse_body(r.body, d, cfg_.spec.base_url); !ok) return std::move(ok).err();
  if (auto err = reply_error(d); !err.empty()) return server_error_in_reply(err);
  return read_chat(d);
}

result<std::vector<std::string>> basic_client::parse_models(const http_response& r) const {
  rapidjson::Document d;
  if (auto ok = parse_body(r.body, d, cfg_.spec.base_url); !ok) return std::move(ok).err();
  return read_models(d);
}

http_request basic_client::build_health() const {
  http_request h;
  h.method = "GET";
  h.url = models_url();
  return h;
}

http_request basic_client::post_json(std::string_view path, const chat_body& body) const {
  http_request h;
  h.method = "POST";
  h.url = url(path);
  h.body.assign(body.buf.GetString(), body.buf.GetSize());
  return h;
}

error basic_client::server_error_in_reply(const std::string& text) const {
  return make_error(errc::bad_json, "server error in a 2xx reply from " + cfg_.spec.base_url + ": " + text);
}

void basic_client::note(std::string line) {
  line = scrub_secrets(std::move(line));
  spdlog::warn("llm: {}", line);
  std::lock_guard lk{sp_->mu};
  sp_->learned.push_back(std::move(line));
}

bool basic_client::adapt(call_state& st, const http_response& resp, const std::string& server_text) {
  if (st.adaptations >= 6) return false;  // each field changes once; this only bounds a confused server
  auto field = refused_by(static_cast<int>(resp.status), server_text, server_error_param(resp), st.sent);
  const auto& pin = cfg_.profile;
  std::string action;
  switch (field) {
    case refused_field::none:
      return false;
    case refused_field::think:
      if (pin.think) return false;
      if (sp_->think.exchange(false)) action = "not sending `think` from now on";
      break;
    case refused_field::temperature:
      if (pin.temperature) return false;
      if (sp_->temperature.exchange(false)) action = "not sending temperature from now on (the server's default is used)";
      break;
    case refused_field::max_tokens: {
      if (pin.max_completion_tokens) return false;
      int expected = 0;
      if (sp_->cap_name.compare_exchange_strong(expected, 1)) action = "naming the reply cap max_completion_tokens from now on";
      break;
    }
    case refused_field::max_completion_tokens: {
      if (pin.max_completion_tokens) return false;
      int expected = 1;
      if (sp_->cap_name.compare_exchange_strong(expected, 2)) action = "sending no reply cap from now on";
      break;
    }
    case refused_field::response_format: {
      if (pin.structured) return false;
      int next = static_cast<int>(st.sent_structured) + 1;
      if (next > static_cast<int>(structured_mode::prompt_only)) return false;
      int cur = sp_->structured.load();
      while (cur < next && !sp_->structured.compare_exchange_weak(cur, next)) {
      }
      if (cur < next)
        action = next == static_cast<int>(structured_mode::prompt_only)
                   ? std::string("asking for JSON in the prompt only (extracted and validated here) from now on")
                   : std::string("asking for structured output with ") + to_string(static_cast<structured_mode>(next)) +
                         " from now on";
      break;
    }
  }
  // Another call may have learned the same moments ago: then just send again.
  if (!action.empty())
    note(cfg_.spec.base_url + " (" + cfg_.spec.model + ") refused " + to_string(field) + " with HTTP " +
         std::to_string(resp.status) + ": \"" + snippet(server_text, 300) + "\"; " + action);
  ++st.adaptations;
  return true;
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
      if (it->value.IsString()) return snippet(it->value.GetString(), 1000);
      if (it->value.IsObject()) {
        auto m = it->value.FindMember("message");
        if (m != it->value.MemberEnd() && m->value.IsString()) return snippet(m->value.GetString(), 1000);
      }
    }
    // vLLM: {"object":"error","message":"...","type":"BadRequestError",...}
    auto m = d.FindMember("message");
    if (m != d.MemberEnd() && m->value.IsString()) return snippet(m->value.GetString(), 1000);
  }
  if (r.body.empty()) return "(empty body)";
  return snippet(r.body);
}

std::string basic_client::server_error_param(const http_response& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (d.HasParseError() || !d.IsObject()) return {};
  auto it = d.FindMember("error");
  // OpenAI nests it in "error"; vLLM's older ErrorResponse has it at the top.
  const rapidjson::Value& holder = it != d.MemberEnd() && it->value.IsObject() ? it->value : d;
  auto p = holder.FindMember("param");
  if (p == holder.MemberEnd() || !p->value.IsString()) return {};
  return p->value.GetString();
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
  // Gemini's OpenAI path lists "models/gemini-2.0-flash".
  if (listed.starts_with("models/") && listed.substr(7) == want) return true;
  auto has_tag = [](const std::string& s) { return s.find(':') != std::string::npos; };
  if (!has_tag(want) && listed == want + ":latest") return true;
  if (!has_tag(listed) && want == listed + ":latest") return true;
  return false;
}

namespace {

// Azure OpenAI takes a key in `api-key`, not as a Bearer token.
bool azure_host(std::string_view base_url) {
  auto host = base_url.substr(base_url.find("://") == std::string_view::npos ? 0 : base_url.find("://") + 3);
  host = host.substr(0, host.find_first_of(":/?"));
  return host.ends_with(".openai.azure.com") || host.ends_with(".cognitiveservices.azure.com");
}

}  // namespace

void basic_client::decorate(http_request& h, const chat_request* req, std::chrono::milliseconds timeout) const {
  h.endpoint = cfg_.spec.base_url;
  h.max_in_flight = std::max(1, cfg_.max_in_flight);
  h.connect_timeout = cfg_.connect_timeout;
  h.timeout = timeout;
  h.max_body_bytes = cfg_.max_reply_bytes;
  h.headers.emplace_back("Accept", "application/json");
  if (!h.body.empty()) h.headers.emplace_back("Content-Type", "application/json");
  if (req != nullptr) {
    // A summary is never on the critical path: it waits behind every coder,
    // fixer, planner and reviewer call queued for this model server.
    h.background = req->role == "summarizer";
    if (!req->role.empty()) h.headers.emplace_back("X-Codehive-Role", header_safe(req->role));
    if (!req->path.empty()) h.headers.emplace_back("X-Codehive-Path", header_safe(req->path));
  }
  bool may_send_secret = key_may_travel(cfg_);
  auto withheld = [&](const std::string& what) {
    if (!warned_key_insecure_.exchange(true))
      spdlog::warn("llm: not sending {} to {}: plain HTTP to a host outside loopback; use https, or set "
                   "allow_insecure_key: true for this model in the config",
                   what, cfg_.spec.base_url);
  };
  if (!cfg_.api_key_env.empty()) {
    const char* key = std::getenv(cfg_.api_key_env.c_str());  // read at use, as above
    if (key != nullptr && *key != '\0') {
      if (!may_send_secret)
        withheld("the API key from " + cfg_.api_key_env);
      else if (azure_host(cfg_.spec.base_url))
        h.headers.emplace_back("api-key", header_safe(key));
      else
        h.headers.emplace_back("Authorization", "Bearer " + header_safe(key));
    } else if (!warned_key_unset_.exchange(true)) {
      spdlog::warn("llm: API key variable {} is not set; calling {} without a key", cfg_.api_key_env,
                   cfg_.spec.base_url);
    }
  }
  for (const auto& [name, value] : cfg_.headers) {
    bool secret = false;
    auto v = expand_env(value, secret);
    if (secret && !may_send_secret) {
      withheld("header " + name);
      continue;
    }
    h.headers.emplace_back(header_safe(name), header_safe(v));
  }
}

void basic_client::chat(chat_request req, chat_callback cb) {
  auto st = std::make_shared<call_state>();
  st->req = std::move(req);
  if (cfg_.stream) st->req.stream = true;
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

unsigned basic_client::shape_of(const call_state& st) noexcept {
  unsigned m = 0;
  if (st.sent.think) m |= 1u;
  if (st.sent.temperature) m |= 2u;
  if (st.sent.max_tokens) m |= 4u;
  if (st.sent.max_completion_tokens) m |= 8u;
  if (st.sent.response_format) m |= 16u << static_cast<unsigned>(st.sent_structured);
  return m;
}

void basic_client::end_probe(call_state& st) {
  if (!st.probe) return;
  st.probe = false;
  sp_->probe_in_flight = false;
  auto waiting = std::move(sp_->parked);
  sp_->parked.clear();
  for (auto& resume : waiting) resume();  // one may become the next probe
}

void basic_client::confirm_shape(call_state& st) {
  sp_->confirmed_shapes |= shape_of(st);
  end_probe(st);
}

void basic_client::attempt(std::shared_ptr<call_state> st) {
  auto built = build_chat(*st);
  if (!built) {
    complete(st, std::move(built).err(), std::nullopt, 0);
    return;
  }
  if (!st->probe && (shape_of(*st) & ~sp_->confirmed_shapes) != 0) {
    if (sp_->probe_in_flight) {
      sp_->parked.push_back([self = shared_from_this(), st] { self->attempt(st); });
      return;
    }
    sp_->probe_in_flight = true;
    st->probe = true;
  }
  http_request h = std::move(built).value();
  decorate(h, &st->req, st->req.timeout.value_or(cfg_.call_timeout));
  std::shared_ptr<stream_parser> parser;
  if (st->req.stream) {
    auto t = stream_timeouts(cfg_, st->req.timeout.value_or(cfg_.call_timeout));
    h.first_byte_timeout = t.first_token;
    h.idle_timeout = t.idle;
    h.timeout = t.whole;
    parser = make_stream_parser();
    st->first_token_at.reset();
    h.on_chunk = [self = shared_from_this(), parser, st](std::string_view data) {
      parser->feed(data);
      if (!st->first_token_at && parser->generating()) {
        st->first_token_at = clock_type::now();
        // Generating: the server took this request's fields. The calls that
        // wait on this shape go now, not after the whole answer (a run's
        // first 15 coders waited one full file's time behind the 16th).
        self->confirm_shape(*st);
      }
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
  if (resp.status >= 200 && resp.status <= 299) {
    confirm_shape(*st);  // a stream's first token did it already
    st->first_token = time_to_first_token(*st, parser != nullptr, resp);
  }
  if (resp.status < 200 || resp.status > 299) {
    // Scrubbed first: this text reaches the retry log line too.
    auto text = scrub_secrets(server_error_text(resp));
    if (adapt(*st, resp, text)) {
      attempt(std::move(st));
      return;
    }
    error e = make_error(errc::http_status, "HTTP " + std::to_string(resp.status) + " from " + cfg_.spec.base_url +
                                                ": " + text);
    e.http_status = static_cast<int>(resp.status);
    e.retry_after_ms = retry_after_ms(resp);
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
  if (got.refusal && !got.refusal->empty()) {
    // OpenAI's refusal: content is null and the reason is here. An answer
    // the caller can ask again for (or report), with the model's words.
    complete(std::move(st), make_error(errc::empty_answer, "the model refused to answer: " + snippet(*got.refusal, 500)),
             got, secs);
    return;
  }
  // A reasoning block inline in the content (<think>...</think>, servers
  // without a reasoning parser) is thinking, not answer.
  auto answer = split_inline_thinking(got.content, got.thinking);
  chat_response out;
  out.finish_reason = got.finish_reason;
  if (!st->req.json_schema) {
    if (is_blank(answer)) {
      complete(std::move(st), make_error(errc::empty_answer, empty_message(got)), got, secs);
      return;
    }
    out.content = std::move(answer);
    complete(std::move(st), std::move(out), got, secs);
    return;
  }
  auto checked = is_blank(answer) ? result<std::string>(make_error(errc::empty_answer, empty_message(got)))
                                  : extract_and_validate(answer, *st->req.json_schema);
  // The answer is taken from the thinking only where no JSON can be found
  // anywhere else: the content is empty or holds no JSON at all (Ollama with
  // `format` on a thinking model can leave content empty and put the JSON in
  // message.thinking), and the thinking's JSON validates against the schema.
  // Content with JSON that fails the schema stays the answer (and its error
  // goes back to the model): a draft in the thinking is not preferred over it.
  if (!checked && (checked.err().code == errc::empty_answer || checked.err().code == errc::bad_json) &&
      !got.thinking.empty()) {
    if (auto alt = extract_and_validate(got.thinking, *st->req.json_schema); alt) {
      if (!warned_thinking_.exchange(true))
        spdlog::info("llm: {} ({}) put the structured answer in its thinking and left the content without JSON; "
                     "using the thinking's JSON (validated against the schema)",
                     cfg_.spec.base_url, cfg_.spec.model);
      checked = std::move(alt);
    }
  }
  if (!checked) {
    complete(std::move(st), std::move(checked).err(), got, secs);
    return;
  }
  out.content = std::move(checked).value();
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
  end_probe(*st);  // a probe that failed for good: the next waiting call tries
  usage u;
  u.role = st->req.role;
  u.model = cfg_.spec.model;
  u.attempts = st->attempts;
  u.latency = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - st->start);
  u.first_token = st->first_token;
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
    // Server text may echo a key (some gateways do): never let it reach the
    // log, the store or status.json.
    e.message = scrub_secrets(std::move(e.message));
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
      e.message = scrub_secrets(std::move(e.message));
      cb(std::move(e));
      return;
    }
    auto& resp = r.value();
    if (resp.status < 200 || resp.status > 299) {
      error e = make_error(errc::http_status, "HTTP " + std::to_string(resp.status) + " from " +
                                                  self->cfg_.spec.base_url + ": " +
                                                  scrub_secrets(server_error_text(resp)));
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
