#include "llm/ollama_client.hpp"

#include "llm/backend.hpp"
#include "llm/json_write.hpp"

namespace codehive::llm {

namespace {

using namespace detail;

// Fields of a final (done) Ollama reply object into `out`.
void read_stats(const rapidjson::Value& d, parsed_reply& out) {
  out.prompt_tokens = get_int(d, "prompt_eval_count");
  out.completion_tokens = get_int(d, "eval_count");
  auto eval_ns = get_int(d, "eval_duration");
  if (out.completion_tokens && eval_ns && *eval_ns > 0)
    out.tokens_per_s = static_cast<double>(*out.completion_tokens) / (static_cast<double>(*eval_ns) / 1e9);
  out.finish_reason = get_string(d, "done_reason");
  if (out.finish_reason.empty()) out.finish_reason = "stop";
}

// message.content and message.thinking (thinking models, Ollama 0.9+), appended.
void read_message(const rapidjson::Value& d, parsed_reply& out) {
  auto it = d.FindMember("message");
  if (it == d.MemberEnd() || !it->value.IsObject()) return;
  out.content += get_string(it->value, "content");
  out.thinking += get_string(it->value, "thinking");
}

bool is_done(const rapidjson::Value& d) {
  auto it = d.FindMember("done");
  return it != d.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::string error_text(const rapidjson::Value& d) { return get_string(d, "error"); }

class ndjson_parser final : public stream_parser {
 public:
  using stream_parser::stream_parser;

 protected:
  void on_line(std::string_view line) override {
    if (done_ || error_) return;
    rapidjson::Document d;
    if (!parse_object(line, d, "a line", error_text)) return;
    read_message(d, out_);
    if (is_done(d)) {
      done_ = true;
      read_stats(d, out_);
    }
  }

  result<parsed_reply> done() override {
    if (!done_) return ended_without("\"done\": true", out_.content.size());
    return std::move(out_);
  }

 private:
  bool done_ = false;
};

class ollama_client final : public basic_client {
 public:
  using basic_client::basic_client;

 protected:
  std::string_view write_chat(call_state& st, chat_body& body) override {
    const auto& req = st.req;
    auto& w = body.w;
    if (req.json_schema && st.sent_structured != structured_mode::prompt_only) {
      st.sent.response_format = true;
      w.Key("format");
      if (st.sent_structured == structured_mode::json_object)
        w.String("json");
      else
        body.schema.Accept(w);
    }
    // Thinking models (qwen3, deepseek-r1...) think by default; with a format
    // the answer can then land in message.thinking. Ollama refuses only a
    // truthy `think` for models without the capability, so false is safe.
    if (think_now()) {
      st.sent.think = true;
      w.Key("think");
      w.Bool(false);
    }
    // Keeps the model loaded between the run's calls (default 5m would unload
    // it while the planner waits for coders).
    if (!cfg_.profile.keep_alive.empty()) {
      w.Key("keep_alive");
      write_string(w, cfg_.profile.keep_alive);
    }
    w.Key("options");
    w.StartObject();
    if (req.temperature && temperature_now()) {
      st.sent.temperature = true;
      w.Key("temperature");
      w.Double(*req.temperature);
    }
    if (req.max_tokens) {
      w.Key("num_predict");
      w.Int(*req.max_tokens);
    }
    // One num_ctx per model for the whole run (share_model_settings): Ollama
    // reloads the model whenever it changes.
    w.Key("num_ctx");
    w.Int(cfg_.context_tokens);
    if (req.seed) {
      w.Key("seed");
      w.Int(*req.seed);
    }
    w.EndObject();
    return "/api/chat";
  }

  std::string reply_error(const rapidjson::Value& d) const override { return error_text(d); }

  result<parsed_reply> read_chat(const rapidjson::Value& d) const override {
    parsed_reply out;
    auto m = d.FindMember("message");
    if (m == d.MemberEnd() || !m->value.IsObject())
      return error{errc::bad_json, "reply from " + cfg_.spec.base_url + " has no \"message\" object"};
    read_message(d, out);
    read_stats(d, out);
    auto done = d.FindMember("done");
    if (done != d.MemberEnd() && done->value.IsBool() && !done->value.GetBool())
      return error{errc::truncated, "reply from " + cfg_.spec.base_url + " has \"done\": false"};
    return out;
  }

  std::unique_ptr<stream_parser> make_stream_parser() override {
    return std::make_unique<ndjson_parser>(cfg_.spec.base_url);
  }

  std::string models_url() const override { return url("/api/tags"); }

  result<std::vector<std::string>> read_models(const rapidjson::Value& d) const override {
    std::vector<std::string> names;
    auto it = d.FindMember("models");
    if (it == d.MemberEnd() || !it->value.IsArray())
      return error{errc::bad_json, cfg_.spec.base_url + "/api/tags has no \"models\" list"};
    for (const auto& m : it->value.GetArray()) {
      auto name = get_string(m, "name");
      if (name.empty()) name = get_string(m, "model");
      if (!name.empty()) names.push_back(std::move(name));
    }
    return names;
  }

  std::string missing_model_message(const std::vector<std::string>&) override {
    return "model " + cfg_.spec.model + " not found on " + cfg_.spec.base_url + "; run `ollama pull " +
           cfg_.spec.model + "`";
  }
};

}  // namespace

std::shared_ptr<client> make_ollama_client(http_loop& loop, endpoint_config cfg) {
  return std::make_shared<ollama_client>(loop, std::move(cfg));
}

}  // namespace codehive::llm
