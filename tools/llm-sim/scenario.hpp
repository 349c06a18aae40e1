// The scenario file: its data model and the loader that validates it.
// Format: tools/llm-sim/README.md.
#pragma once

#include <map>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace llm_sim {

/// A scenario file that cannot be used; what() says where and what is wrong.
class scenario_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct latency_model {
  int ttft_ms = 0;            ///< wait before the first token
  double tokens_per_s = 0.0;  ///< 0: no generation delay
};

/// Optional per-rule latency fields; absent fields inherit the global model.
struct latency_override {
  std::optional<int> ttft_ms;
  std::optional<double> tokens_per_s;
  latency_model apply(latency_model base) const {
    if (ttft_ms) base.ttft_ms = *ttft_ms;
    if (tokens_per_s) base.tokens_per_s = *tokens_per_s;
    return base;
  }
};

/// One scripted answer: message text, or a fault instead of an answer.
struct response_entry {
  bool is_fault = false;
  bool is_refusal = false; ///< `text` is an OpenAI refusal (content null, message.refusal)
  std::string text;        ///< message text (content, json, file or refusal)
  std::string fault;       ///< "429", "500", "503", "404", "400", "hang", "malformed", "truncated", "empty"
  int retry_after_s = 1;   ///< 429 only
  std::optional<int> hang_ms;  ///< hang only; default: scenario hang_ms
  std::optional<int> prompt_tokens;
  std::optional<int> completion_tokens;
};

struct match_spec {
  std::optional<std::string> role;
  std::optional<std::string> path;
  std::optional<std::string> api;    ///< "ollama" or "openai"
  std::optional<std::string> model;
  std::optional<std::regex> prompt_regex;
  std::string prompt_regex_source;
};

struct rule {
  std::string name;  ///< "rule-N" (0-based index) when the file names none
  match_spec match;
  latency_override latency;
  std::vector<response_entry> responses;  ///< never empty
};

struct scenario {
  std::string path;  ///< the file it was loaded from
  std::vector<std::string> models;
  latency_model latency;
  double random_fault_rate = 0.0;
  std::vector<std::string> random_fault_kinds;
  bool openai_json_schema = true;
  int hang_ms = 60000;
  std::vector<rule> rules;
  std::optional<response_entry> default_entry;
  /// "personality": a name, or {"name": …, option: value…} (options as text);
  /// checked by make_personality (personality.hpp). "" = none.
  std::string personality;
  std::map<std::string, std::string> personality_options;
};

/// Every fault kind a response entry or random_faults may name.
bool is_known_fault(const std::string& kind);
/// HTTP status for the status-code faults ("429" -> 429), 0 for the others.
int fault_status(const std::string& kind);

/// Loads and validates a scenario file. Throws scenario_error with the file
/// name, the JSON location ("rules[2].match.role") and what is wrong.
scenario load_scenario(const std::string& path);

/// Same from text; `base_dir` resolves relative {"file": …} entries and
/// `name` is used in error messages.
scenario parse_scenario(const std::string& text, const std::string& base_dir,
                        const std::string& name);

}  // namespace llm_sim
