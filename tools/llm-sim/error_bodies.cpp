#include "error_bodies.hpp"

#include "json_out.hpp"

namespace llm_sim {

using namespace json_out;

namespace {

void str_or_null(writer& w, const char* key, const std::optional<std::string>& v) {
  w.Key(key);
  if (v)
    w.String(v->c_str(), static_cast<rapidjson::SizeType>(v->size()));
  else
    w.Null();
}

/// {"error":{...}} with what `fill` writes inside.
template <class Fill>
std::string nested_error(Fill fill) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  fill(w);
  w.EndObject();
  w.EndObject();
  return done(buf);
}

void llamacpp_fields(writer& w, int code, const std::string& message, const std::string& type) {
  w.Key("code");
  w.Int(code);
  str(w, "message", message);
  str(w, "type", type);
}

}  // namespace

std::string flat_error(const std::string& message) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  str(w, "error", message);
  w.EndObject();
  return done(buf);
}

std::string openai_error(const std::string& message, const std::string& type,
                         const std::optional<std::string>& param, const std::optional<std::string>& code) {
  return nested_error([&](writer& w) {
    str(w, "message", message);
    str(w, "type", type);
    str_or_null(w, "param", param);
    str_or_null(w, "code", code);
  });
}

std::string vllm_error(const std::string& message, const std::string& type, int code) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  str(w, "object", "error");
  str(w, "message", message);
  str(w, "type", type);
  w.Key("param");
  w.Null();
  w.Key("code");
  w.Int(code);
  w.EndObject();
  return done(buf);
}

std::string llamacpp_error(int code, const std::string& message, const std::string& type) {
  return nested_error([&](writer& w) { llamacpp_fields(w, code, message, type); });
}

std::string llamacpp_context_error(long prompt_tokens, long context_length) {
  return nested_error([&](writer& w) {
    llamacpp_fields(w, 400,
                    "request (" + std::to_string(prompt_tokens) + " tokens) exceeds the available context size (" +
                        std::to_string(context_length) + " tokens), try increasing it",
                    "exceed_context_size_error");
    num(w, "n_prompt_tokens", prompt_tokens);
    num(w, "n_ctx", context_length);
  });
}

}  // namespace llm_sim
