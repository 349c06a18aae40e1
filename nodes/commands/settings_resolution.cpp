#include "nodes/commands/settings_resolution.hpp"

#include <cstdlib>
#include <type_traits>

#include "nodes/commands.hpp"
#include "nodes/config.hpp"

namespace codehive {

namespace {

/// A variable that is set and not empty.
std::optional<std::string> non_empty(const char* value) {
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  return std::string{value};
}

std::optional<std::string> set(const char* value) {
  if (value == nullptr)
    return std::nullopt;
  return std::string{value};
}

std::optional<std::string> given(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  return text;
}

std::optional<std::filesystem::path> given_path(const std::optional<std::string>& text) {
  if (!text)
    return std::nullopt;
  return std::filesystem::path{*text};
}

std::optional<secret_source> file_source(const std::string& file) {
  if (file.empty())
    return std::nullopt;
  return secret_source{file, {}};
}

void strip_trailing_space(std::string& s) {
  while (!s.empty()
         && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
}

}  // namespace

environment_settings environment_from(const std::function<const char*(const char*)>& lookup) {
  environment_settings env;
  env.config = non_empty(lookup("CODEHIVE_CONFIG"));
  env.store = non_empty(lookup("CODEHIVE_STORE"));
  env.join_token = set(lookup("CODEHIVE_JOIN_TOKEN"));
  env.http_token = set(lookup("CODEHIVE_HTTP_TOKEN"));
  env.demo_dir = non_empty(lookup("CODEHIVE_DEMO_DIR"));
  env.llm_sim = non_empty(lookup("CODEHIVE_LLM_SIM"));
  env.openai_key = lookup("OPENAI_API_KEY") != nullptr;
  env.editor = non_empty(lookup("VISUAL"));
  if (!env.editor)
    env.editor = non_empty(lookup("EDITOR"));
  return env;
}

environment_settings read_environment() {
  return environment_from([](const char* name) -> const char* { return std::getenv(name); });
}

std::optional<std::filesystem::path> config_file(
  const std::string& flag, const environment_settings& env,
  const std::optional<std::filesystem::path>& installed) {
  return resolve(setting_sources<std::filesystem::path>{
    .defaults = installed, .environment = given_path(env.config), .flag = given_path(given(flag))});
}

std::optional<std::filesystem::path> store_folder(
  const std::string& flag, const environment_settings& env, const std::string& config_path,
  const std::optional<std::filesystem::path>& user_default) {
  return resolve(setting_sources<std::filesystem::path>{.defaults = user_default,
                                                        .config = given_path(given(config_path)),
                                                        .environment = given_path(env.store),
                                                        .flag = given_path(given(flag))});
}

std::optional<secret_source> join_token_source(const std::string& flag_file,
                                               const environment_settings& env,
                                               const std::string& config_file) {
  // A blank variable is no token: the config's file still counts.
  std::optional<secret_source> from_env;
  if (env.join_token) {
    auto token = *env.join_token;
    strip_trailing_space(token);
    if (!token.empty())
      from_env = secret_source{{}, token};
  }
  return resolve(setting_sources<secret_source>{
    .config = file_source(config_file), .environment = from_env, .flag = file_source(flag_file)});
}

std::optional<secret_source> http_token_source(const std::string& flag_file,
                                               const environment_settings& env) {
  std::optional<secret_source> from_env;
  if (env.http_token)
    from_env = secret_source{{}, *env.http_token};
  return resolve(
    setting_sources<secret_source>{.environment = from_env, .flag = file_source(flag_file)});
}

std::optional<std::filesystem::path> demo_folder(
  const environment_settings& env, const std::optional<std::filesystem::path>& found) {
  return resolve(setting_sources<std::filesystem::path>{.defaults = found,
                                                        .environment = given_path(env.demo_dir)});
}

std::optional<std::filesystem::path> simulator_binary(
  const environment_settings& env, const std::optional<std::filesystem::path>& found) {
  return resolve(setting_sources<std::filesystem::path>{.defaults = found,
                                                        .environment = given_path(env.llm_sim)});
}

std::string editor_command(const environment_settings& env) {
  return env.editor.value_or("vi");
}

run_settings resolve_run_settings(const run_options& flags, const run_defaults& config,
                                  const run_settings* stored) {
  run_settings r;
  r.demo = flags.demo || (stored != nullptr && stored->demo);
  r.approve_plan = flags.approve_plan || (stored != nullptr && stored->approve_plan);
  // One setting: the stored run's counts where `kept` says it holds one.
  // `Of`: run_settings or its base run_defaults, where the field is declared.
  auto pick = [stored]<class T, class Of>(T Of::*field,
                                          std::type_identity_t<std::optional<T>> config_value,
                                          std::type_identity_t<std::optional<T>> flag,
                                          std::type_identity_t<bool (*)(const T&)> kept) {
    std::optional<T> from_store;
    if (stored != nullptr && kept(stored->*field))
      from_store = stored->*field;
    return resolve(setting_sources<T>{.config = config_value, .stored = from_store, .flag = flag});
  };
  auto any = [](const auto&) { return true; };
  auto positive = [](const auto& x) { return x > 0; };
  r.coders = *pick(&run_settings::coders, config.coders, flags.coders, any);
  r.fixers = *pick(&run_settings::fixers, config.fixers, flags.fixers, any);
  r.max_rounds = *pick(&run_settings::max_rounds, config.max_rounds, flags.max_rounds, any);
  r.max_tokens = *pick(&run_settings::max_tokens, config.max_tokens, flags.max_tokens, positive);
  r.max_cost_usd =
    *pick(&run_settings::max_cost_usd, config.max_cost_usd, flags.max_cost, positive);
  // The time budget counts per session (from this process's start).
  r.max_time_s = *pick(&run_settings::max_time_s, config.max_time_s, flags.max_time, positive);
  auto spec_kept = r.demo ? +[](const std::string&) { return false; }
                          : +[](const std::string& spec) { return !spec.empty(); };
  r.planner = pick(&run_settings::planner, std::nullopt, flags.planner, spec_kept).value_or("");
  r.coder = pick(&run_settings::coder, std::nullopt, flags.coder, spec_kept).value_or("");
  return r;
}

}  // namespace codehive
