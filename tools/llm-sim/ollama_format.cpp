// Ollama /api/chat reply shapes (https://github.com/ollama/ollama/blob/main/docs/api.md).
#include <ctime>

#include "api_format.hpp"
#include "error_bodies.hpp"

namespace llm_sim {

namespace {

using namespace json_out;

class ollama_format final : public api_format {
 public:
  std::string error_body(int, const std::string& message, const std::string&) const override {
    return flat_error(message);
  }

  std::string body(const reply_info& r) const override {
    rapidjson::StringBuffer buf;
    writer w(buf);
    w.StartObject();
    head(w, r, r.content, r.thinking ? std::optional<std::string_view>(*r.thinking) : std::nullopt);
    tail(w, r);
    w.EndObject();
    return done(buf);
  }

  const char* stream_content_type() const override { return "application/x-ndjson"; }

  std::string stream_begin(const reply_info&) const override { return {}; }

  std::string stream_piece(const reply_info& r, std::string_view piece,
                           bool thinking) const override {
    rapidjson::StringBuffer buf;
    writer w(buf);
    w.StartObject();
    if (thinking)
      head(w, r, "", piece);  // Ollama streams the thinking first, content empty
    else
      head(w, r, piece);
    w.Key("done");
    w.Bool(false);
    w.EndObject();
    return done(buf) + "\n";
  }

  std::string stream_end(const reply_info& r) const override {
    rapidjson::StringBuffer buf;
    writer w(buf);
    w.StartObject();
    head(w, r, "");
    tail(w, r);
    w.EndObject();
    return done(buf) + "\n";
  }

 private:
  static void head(writer& w, const reply_info& r, std::string_view content,
                   std::optional<std::string_view> thinking = std::nullopt) {
    str(w, "model", r.model);
    str(w, "created_at", rfc3339_now());
    w.Key("message");
    w.StartObject();
    str(w, "role", "assistant");
    str(w, "content", content);
    if (thinking) str(w, "thinking", *thinking);  // omitted when empty, as Ollama's omitempty
    w.EndObject();
  }

  static void tail(writer& w, const reply_info& r) {
    const auto total = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - r.started)
                           .count();
    // Without a personality the model is always "loaded".
    const std::int64_t load = r.load.count() > 0 ? r.load.count() : 1000;
    const std::int64_t prompt = r.prompt_eval.count();
    std::int64_t eval = total - prompt - load;
    if (eval < 0) eval = 0;
    str(w, "done_reason", "stop");
    w.Key("done");
    w.Bool(true);
    num(w, "total_duration", total);
    num(w, "load_duration", load);
    num(w, "prompt_eval_count", r.prompt_tokens);
    num(w, "prompt_eval_duration", prompt);
    num(w, "eval_count", r.completion_tokens);
    num(w, "eval_duration", eval);
  }
};

}  // namespace

std::unique_ptr<api_format> make_ollama_format() { return std::make_unique<ollama_format>(); }

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lldZ", static_cast<long long>(ns % 1000000000));
  return std::string(buf) + frac;
}

}  // namespace llm_sim
