#include "chat_request.hpp"

#include <charconv>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace llm_sim {

namespace {

/// A message's content: a string, or (OpenAI) an array of {type:"text", text}.
std::string content_text(const rapidjson::Value& content) {
  if (content.IsString()) return content.GetString();
  std::string out;
  if (content.IsArray()) {
    for (const auto& part : content.GetArray()) {
      if (!part.IsObject()) continue;
      auto t = part.FindMember("text");
      if (t != part.MemberEnd() && t->value.IsString()) {
        if (!out.empty()) out += '\n';
        out += t->value.GetString();
      }
    }
  }
  return out;
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

/// A number as the client wrote it, near enough for an error message that
/// echoes it the way OpenAI's does: 0.2 -> "0.2", 0.0 -> "0.0", 0 -> "0".
std::string number_text(const rapidjson::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// Options that shape the loaded runner: Ollama reloads the model when one of
// them differs from the loaded one (server/sched.go needsReload compares them).
constexpr const char* k_runner_options[] = {"num_ctx",  "num_batch", "num_gpu",  "main_gpu",
                                            "use_mmap", "use_mlock", "num_thread", "low_vram",
                                            "numa"};

}  // namespace

/// The fields only personalities look at (defined below).
void read_personality_fields(const rapidjson::Value& doc, chat_request& out);

int estimate_tokens(const std::string& text) {
  if (text.empty()) return 0;
  return static_cast<int>((text.size() + 3) / 4);
}

std::optional<std::string> parse_chat_body(const std::string& body, api_kind api,
                                           chat_request& out) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError())
    return std::string("invalid JSON body: ") + rapidjson::GetParseError_En(doc.GetParseError());
  if (!doc.IsObject()) return std::string("the request body must be a JSON object");
  auto model = doc.FindMember("model");
  if (model == doc.MemberEnd() || !model->value.IsString() || model->value.GetStringLength() == 0)
    return std::string("model is required");
  out.model = model->value.GetString();

  auto messages = doc.FindMember("messages");
  if (messages == doc.MemberEnd() || !messages->value.IsArray())
    return std::string("messages is required and must be an array");
  out.prompt.clear();
  for (const auto& m : messages->value.GetArray()) {
    if (!m.IsObject()) return std::string("each message must be an object");
    auto c = m.FindMember("content");
    if (c == m.MemberEnd()) continue;
    if (!out.prompt.empty()) out.prompt += '\n';
    out.prompt += content_text(c->value);
  }

  // Ollama streams unless told not to; OpenAI does not unless asked.
  out.stream = api == api_kind::ollama;
  if (auto s = doc.FindMember("stream"); s != doc.MemberEnd() && s->value.IsBool())
    out.stream = s->value.GetBool();

  if (api == api_kind::openai) {
    if (auto rf = doc.FindMember("response_format");
        rf != doc.MemberEnd() && rf->value.IsObject()) {
      auto t = rf->value.FindMember("type");
      if (t != rf->value.MemberEnd() && t->value.IsString()) out.response_format = t->value.GetString();
      out.wants_json_schema = out.response_format == "json_schema";
    }
    if (auto so = doc.FindMember("stream_options");
        so != doc.MemberEnd() && so->value.IsObject()) {
      auto iu = so->value.FindMember("include_usage");
      out.include_usage = iu != so->value.MemberEnd() && iu->value.IsBool() && iu->value.GetBool();
    }
  }
  read_personality_fields(doc, out);
  return std::nullopt;
}

void read_personality_fields(const rapidjson::Value& doc, chat_request& out) {
  out.has_format = false;
  if (auto f = doc.FindMember("format"); f != doc.MemberEnd() && !f->value.IsNull())
    out.has_format = !(f->value.IsString() && f->value.GetStringLength() == 0);
  if (auto t = doc.FindMember("think"); t != doc.MemberEnd()) {
    if (t->value.IsBool()) out.think = t->value.GetBool();
    else if (t->value.IsString()) out.think = true;  // "low"/"medium"/"high" (gpt-oss)
  }
  if (auto so = doc.FindMember("stream_options"); so != doc.MemberEnd())
    out.has_stream_options = !so->value.IsNull();
  if (auto r = doc.FindMember("reasoning_effort"); r != doc.MemberEnd() && r->value.IsString())
    out.reasoning_effort = r->value.GetString();
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto m = doc.FindMember(key);
    if (m == doc.MemberEnd() || m->value.IsNull()) continue;
    if (std::string(key) == "max_tokens") out.has_max_tokens = true;
    if (m->value.IsInt64() && !out.max_tokens) out.max_tokens = static_cast<long>(m->value.GetInt64());
  }
  for (const char* key : {"temperature", "top_p", "presence_penalty", "frequency_penalty"}) {
    auto m = doc.FindMember(key);
    if (m != doc.MemberEnd() && m->value.IsNumber())
      out.sampling[key] = {m->value.GetDouble(), number_text(m->value)};
  }
  if (auto k = doc.FindMember("keep_alive"); k != doc.MemberEnd()) {
    if (k->value.IsString()) out.keep_alive = k->value.GetString();
    else if (k->value.IsNumber()) out.keep_alive = number_text(k->value);
  }
  if (auto o = doc.FindMember("options"); o != doc.MemberEnd() && o->value.IsObject()) {
    for (const char* key : k_runner_options)
      if (auto m = o->value.FindMember(key); m != o->value.MemberEnd())
        out.runner_options[key] = compact(m->value);
    if (auto np = o->value.FindMember("num_predict"); np != o->value.MemberEnd() && np->value.IsInt64())
      out.max_tokens = static_cast<long>(np->value.GetInt64());
  }
}

}  // namespace llm_sim
