// OpenAI chat completion reply shapes
// (https://platform.openai.com/docs/api-reference/chat/object).
#include "api_format.hpp"

namespace llm_sim {

namespace {

using namespace json_out;

class openai_format final : public api_format {
 public:
  std::string error_body(int status, const std::string& message,
                         const std::string& code) const override {
    rapidjson::StringBuffer buf;
    writer w(buf);
    w.StartObject();
    w.Key("error");
    w.StartObject();
    str(w, "message", message);
    str(w, "type", status == 429   ? "rate_limit_error"
                   : status >= 500 ? "server_error"
                                   : "invalid_request_error");
    w.Key("param");
    w.Null();
    str(w, "code", code);
    w.EndObject();
    w.EndObject();
    return done(buf);
  }

  std::string body(const reply_info& r) const override {
    rapidjson::StringBuffer buf;
    writer w(buf);
    w.StartObject();
    head(w, r, "chat.completion");
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    num(w, "index", 0);
    w.Key("message");
    w.StartObject();
    str(w, "role", "assistant");
    str(w, "content", r.content);
    w.EndObject();
    w.Key("logprobs");
    w.Null();
    str(w, "finish_reason", "stop");
    w.EndObject();
    w.EndArray();
    usage(w, r);
    w.EndObject();
    return done(buf);
  }

  const char* stream_content_type() const override { return "text/event-stream"; }

  std::string stream_begin(const reply_info& r) const override {
    return chunk(r, "assistant", "", false);
  }

  std::string stream_piece(const reply_info& r, std::string_view piece) const override {
    return chunk(r, nullptr, piece, false);
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

  static void usage(writer& w, const reply_info& r) {
    w.Key("usage");
    w.StartObject();
    num(w, "prompt_tokens", r.prompt_tokens);
    num(w, "completion_tokens", r.completion_tokens);
    num(w, "total_tokens", r.prompt_tokens + r.completion_tokens);
    w.EndObject();
  }

  /// One SSE event; `role` only in the first, `final` carries finish_reason
  /// "stop" and an empty delta.
  static std::string chunk(const reply_info& r, const char* role, std::string_view content,
                           bool final) {
    rapidjson::StringBuffer buf;
    writer w(buf);
    w.StartObject();
    head(w, r, "chat.completion.chunk");
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    num(w, "index", 0);
    w.Key("delta");
    w.StartObject();
    if (!final) {
      if (role != nullptr) str(w, "role", role);
      str(w, "content", content);
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
    w.EndObject();
    return "data: " + done(buf) + "\n\n";
  }
};

}  // namespace

std::unique_ptr<api_format> make_openai_format() { return std::make_unique<openai_format>(); }

}  // namespace llm_sim
