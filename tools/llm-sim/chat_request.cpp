#include "chat_request.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

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

}  // namespace

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
      out.wants_json_schema = t != rf->value.MemberEnd() && t->value.IsString() &&
                              std::string(t->value.GetString()) == "json_schema";
    }
    if (auto so = doc.FindMember("stream_options");
        so != doc.MemberEnd() && so->value.IsObject()) {
      auto iu = so->value.FindMember("include_usage");
      out.include_usage = iu != so->value.MemberEnd() && iu->value.IsBool() && iu->value.GetBool();
    }
  }
  return std::nullopt;
}

}  // namespace llm_sim
