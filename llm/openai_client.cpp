#include "llm/openai_client.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>

#include <spdlog/spdlog.h>

#include "llm/backend.hpp"
#include "llm/json_write.hpp"

namespace codehive::llm {

namespace {

using namespace detail;

const rapidjson::Value* first_choice(const rapidjson::Value& d) {
  auto it = d.FindMember("choices");
  if (it == d.MemberEnd() || !it->value.IsArray() || it->value.Empty()) return nullptr;
  const auto& c = it->value[0];
  return c.IsObject() ? &c : nullptr;
}

void read_usage(const rapidjson::Value& d, parsed_reply& out) {
  auto it = d.FindMember("usage");
  if (it == d.MemberEnd() || !it->value.IsObject()) return;
  if (auto p = get_int(it->value, "prompt_tokens")) out.prompt_tokens = p;
  if (auto c = get_int(it->value, "completion_tokens")) out.completion_tokens = c;
}

// content, reasoning and refusal of a message (or of a streamed delta, whose
// pieces are appended).
void read_message(const rapidjson::Value& m, parsed_reply& out) {
  out.content += get_string(m, "content");
  // vLLM, llama.cpp and DeepSeek: reasoning_content; OpenRouter and newer
  // vLLM/Ollama /v1: reasoning.
  out.thinking += get_string(m, "reasoning_content");
  out.thinking += get_string(m, "reasoning");
  auto refusal = get_string(m, "refusal");
  if (!refusal.empty()) out.refusal = out.refusal.value_or(std::string{}) + refusal;
}

std::string error_message(const rapidjson::Value& d) {
  auto it = d.FindMember("error");
  if (it == d.MemberEnd()) return {};
  if (it->value.IsString()) return it->value.GetString();
  if (it->value.IsObject()) {
    auto m = get_string(it->value, "message");
    return m.empty() ? std::string("unspecified error") : m;
  }
  return {};
}

class sse_parser final : public stream_parser {
 public:
  using stream_parser::stream_parser;

 protected:
  void on_line(std::string_view line) override {
    if (error_ || done_marker_) return;
    if (!line.starts_with("data:")) return;  // comments, event:, id:
    line.remove_prefix(5);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line == "[DONE]") {
      done_marker_ = true;
      return;
    }
    rapidjson::Document d;
    if (!parse_object(line, d, "an event", error_message)) return;
    if (const auto* c = first_choice(d)) {
      auto delta = c->FindMember("delta");
      if (delta != c->MemberEnd() && delta->value.IsObject()) read_message(delta->value, out_);
      auto fr = get_string(*c, "finish_reason");
      if (!fr.empty()) out_.finish_reason = std::move(fr);
    }
    read_usage(d, out_);
  }

  result<parsed_reply> done() override {
    if (!done_marker_ || out_.finish_reason.empty())
      return ended_without(!done_marker_ ? "data: [DONE]" : "a finish_reason", out_.content.size());
    return std::move(out_);
  }

 private:
  bool done_marker_ = false;
};

class openai_client final : public basic_client {
 public:
  using basic_client::basic_client;

 protected:
  std::string_view write_chat(call_state& st, chat_body& body) override {
    const auto& req = st.req;
    auto& w = body.w;
    if (req.stream) {
      w.Key("stream_options");
      w.StartObject();
      w.Key("include_usage");
      w.Bool(true);
      w.EndObject();
    }
    if (req.temperature && temperature_now()) {
      w.Key("temperature");
      w.Double(*req.temperature);
      st.sent.temperature = true;
    }
    if (req.max_tokens && cap_name_now() != 2) {
      // Reasoning models count their hidden reasoning against this cap too and
      // refuse the old name (OpenAI: "Use 'max_completion_tokens' instead").
      bool completion = cap_name_now() == 1;
      w.Key(completion ? "max_completion_tokens" : "max_tokens");
      w.Int(*req.max_tokens);
      (completion ? st.sent.max_completion_tokens : st.sent.max_tokens) = true;
    }
    if (req.seed) {
      w.Key("seed");
      w.Int(*req.seed);
    }
    if (req.json_schema && st.sent_structured != structured_mode::prompt_only) {
      st.sent.response_format = true;
      w.Key("response_format");
      w.StartObject();
      if (st.sent_structured == structured_mode::json_object) {
        w.Key("type");
        w.String("json_object");
      } else {
        w.Key("type");
        w.String("json_schema");
        w.Key("json_schema");
        w.StartObject();
        w.Key("name");
        write_string(w, req.schema_name.empty() ? std::string("answer") : req.schema_name);
        w.Key("schema");
        body.schema.Accept(w);
        w.Key("strict");
        w.Bool(false);
        w.EndObject();
      }
      w.EndObject();
    }
    return "/chat/completions";
  }

  std::string reply_error(const rapidjson::Value& d) const override { return error_message(d); }

  result<parsed_reply> read_chat(const rapidjson::Value& d) const override {
    const auto* c = first_choice(d);
    if (c == nullptr) return error{errc::bad_json, "reply from " + cfg_.spec.base_url + " has no choices"};
    parsed_reply out;
    auto msg = c->FindMember("message");
    if (msg != c->MemberEnd() && msg->value.IsObject()) read_message(msg->value, out);
    out.finish_reason = get_string(*c, "finish_reason");
    read_usage(d, out);
    return out;
  }

  std::unique_ptr<stream_parser> make_stream_parser() override {
    return std::make_unique<sse_parser>(cfg_.spec.base_url);
  }

  // {base}/models; for an Azure deployment SPEC (.../openai/deployments/D)
  // the resource's .../openai/models, which lists models, not deployments.
  std::string models_url() const override {
    std::string base = cfg_.spec.base_url;
    if (cfg_.spec.model_in_path) {
      auto pos = base.rfind("/deployments/");
      if (pos != std::string::npos) base.erase(pos);
    }
    return base + "/models" + (cfg_.spec.query.empty() ? std::string{} : "?" + cfg_.spec.query);
  }

  result<std::vector<std::string>> read_models(const rapidjson::Value& d) const override {
    auto it = d.FindMember("data");
    if (it == d.MemberEnd() || !it->value.IsArray())
      return error{errc::bad_json, cfg_.spec.base_url + "/models has no \"data\" list"};
    std::vector<std::string> names;
    for (const auto& m : it->value.GetArray()) {
      auto id = get_string(m, "id");
      if (!id.empty()) names.push_back(std::move(id));
    }
    // A deployment is not in the model list; the server answered, and the
    // first chat call tells whether the deployment exists.
    if (cfg_.spec.model_in_path) names.push_back(cfg_.spec.model);
    return names;
  }

  std::string missing_model_message(const std::vector<std::string>& served) override {
    std::string list;
    for (std::size_t i = 0; i < served.size() && i < 20; ++i) list += (i ? ", " : "") + served[i];
    return "model " + cfg_.spec.model + " not found on " + cfg_.spec.base_url + "; the server serves: " +
           (list.empty() ? std::string("(none)") : list);
  }

};

}  // namespace

std::shared_ptr<client> make_openai_client(http_loop& loop, endpoint_config cfg) {
  return std::make_shared<openai_client>(loop, std::move(cfg));
}

}  // namespace codehive::llm
