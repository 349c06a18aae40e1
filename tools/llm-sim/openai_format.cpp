// OpenAI chat completion reply shapes
// (https://platform.openai.com/docs/api-reference/chat/object).
#include "api_format.hpp"
#include "error_bodies.hpp"

namespace llm_sim {

namespace {

using namespace json_out;

class openai_format final : public api_format {
 public:
  std::string error_body(int status, const std::string& message,
                         const std::string& code) const override {
    const char* type = status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error";
    return openai_error(message, type, std::nullopt, code);
  }

  std::string body(const reply_info& r) const override {
    rapidjson::StringBuffer buf;
    writer w(buf);
    begin_choice(w, r, "chat.completion");
    w.Key("message");
    w.StartObject();
    str(w, "role", "assistant");
    if (r.refusal) {
      w.Key("content");
      w.Null();
    } else {
      str(w, "content", r.content);
    }
    if (r.thinking) str(w, "reasoning", *r.thinking);  // Ollama's OpenAI layer
    if (r.rich || r.refusal) {
      w.Key("refusal");
      if (r.refusal) str_value(w, r.content);
      else w.Null();
    }
    if (r.rich) {
      w.Key("annotations");
      w.StartArray();
      w.EndArray();
    }
    w.EndObject();
    w.Key("logprobs");
    w.Null();
    str(w, "finish_reason", "stop");
    w.EndObject();
    w.EndArray();
    usage(w, r);
    if (r.rich) str(w, "service_tier", "default");
    w.EndObject();
    return done(buf);
  }

  const char* stream_content_type() const override { return "text/event-stream"; }

  std::string stream_begin(const reply_info& r) const override {
    return chunk(r, "assistant", "", false);
  }

  std::string stream_piece(const reply_info& r, std::string_view piece,
                           bool thinking) const override {
    return chunk(r, nullptr, piece, false, thinking);
  }

  std::string stream_end(const reply_info& r) const override {
    std::string out = chunk(r, nullptr, {}, true);
    if (r.include_usage) {
      rapidjson::StringBuffer buf;
      writer w(buf);
      w.StartObject();
      head(w, r, "chat.completion.chunk");
      w.Key("choices");
      w.StartArray();
      w.EndArray();
      usage(w, r);
      w.EndObject();
      out += "data: " + done(buf) + "\n\n";
    }
    return out + "data: [DONE]\n\n";
  }

 private:
  static void head(writer& w, const reply_info& r, const char* object) {
    str(w, "id", r.id);
    str(w, "object", object);
    num(w, "created", r.created);
    str(w, "model", r.model);
    str(w, "system_fingerprint", "llm-sim");
  }

  static void str_value(writer& w, std::string_view v) {
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }

  static void usage(writer& w, const reply_info& r) {
    w.Key("usage");
    w.StartObject();
    num(w, "prompt_tokens", r.prompt_tokens);
    num(w, "completion_tokens", r.completion_tokens);
    num(w, "total_tokens", r.prompt_tokens + r.completion_tokens);
    if (r.rich) {
      w.Key("prompt_tokens_details");
      w.StartObject();
      num(w, "cached_tokens", 0);
      num(w, "audio_tokens", 0);
      w.EndObject();
      w.Key("completion_tokens_details");
      w.StartObject();
      num(w, "reasoning_tokens", r.reasoning_tokens);
      num(w, "audio_tokens", 0);
      num(w, "accepted_prediction_tokens", 0);
      num(w, "rejected_prediction_tokens", 0);
      w.EndObject();
    }
    w.EndObject();
  }

  /// Opens the reply object (`object`: its "object" field) and its one choice,
  /// index 0; the caller writes the message or delta and closes them.
  static void begin_choice(writer& w, const reply_info& r, const char* object) {
    w.StartObject();
    head(w, r, object);
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    num(w, "index", 0);
  }

  /// One SSE event; `role` only in the first, `final` carries finish_reason
  /// "stop" and an empty delta.
  static std::string chunk(const reply_info& r, const char* role, std::string_view content,
                           bool final, bool thinking = false) {
    rapidjson::StringBuffer buf;
    writer w(buf);
    begin_choice(w, r, "chat.completion.chunk");
    w.Key("delta");
    w.StartObject();
    if (!final) {
      if (role != nullptr) str(w, "role", role);
      if (thinking) str(w, "reasoning", content);
      else if (r.refusal && role == nullptr) str(w, "refusal", content);
      else str(w, "content", content);
      if (r.rich && role != nullptr) {  // OpenAI's first chunk: content "", refusal null
        w.Key("refusal");
        w.Null();
      }
    }
    w.EndObject();
    w.Key("logprobs");
    w.Null();
    w.Key("finish_reason");
    if (final)
      w.String("stop");
    else
      w.Null();
    w.EndObject();
    w.EndArray();
    if (r.rich && r.include_usage) {  // usage comes only in the last chunk; null before it
      w.Key("usage");
      w.Null();
    }
    w.EndObject();
    return "data: " + done(buf) + "\n\n";
  }
};

}  // namespace

std::unique_ptr<api_format> make_openai_format() { return std::make_unique<openai_format>(); }

}  // namespace llm_sim
