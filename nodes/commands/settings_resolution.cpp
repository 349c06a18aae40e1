#include "nodes/commands/settings_resolution.hpp"

#include <cstdlib>

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

resolved_run_settings resolve_run_settings(const run_options& flags, const run_defaults& config,
                                           const run_settings* stored) {
  // A stored setting of a resumed run, where it is one.
  auto from_store = [stored](auto field, auto is_set) {
    using T = std::decay_t<decltype(stored->*field)>;
    if (stored == nullptr || !is_set(stored->*field))
      return std::optional<T>{};
    return std::optional<T>{stored->*field};
  };
  auto always = [](const auto&) { return true; };
  auto positive = [](auto x) { return x > 0; };
  resolved_run_settings r;
  r.demo = flags.demo || (stored != nullptr && stored->demo);
  r.approve_plan = flags.approve_plan || (stored != nullptr && stored->approve_plan);
  r.coders = *resolve(setting_sources<int>{.config = config.coders,
                                           .stored = from_store(&run_settings::coders, always),
                                           .flag = flags.coders});
  r.fixers = *resolve(setting_sources<int>{.config = config.fixers,
                                           .stored = from_store(&run_settings::fixers, always),
                                           .flag = flags.fixers});
  r.max_rounds =
    *resolve(setting_sources<int>{.config = config.max_rounds,
                                  .stored = from_store(&run_settings::max_rounds, always),
                                  .flag = flags.max_rounds});
  r.max_tokens =
    *resolve(setting_sources<long long>{.config = config.max_tokens,
                                        .stored = from_store(&run_settings::max_tokens, positive),
                                        .flag = flags.max_tokens});
  r.max_cost_usd =
    *resolve(setting_sources<double>{.config = config.max_cost_usd,
                                     .stored = from_store(&run_settings::max_cost_usd, positive),
                                     .flag = flags.max_cost});
  // The time budget counts per session (from this process's start).
  r.max_time_s =
    *resolve(setting_sources<double>{.config = config.max_time_s,
                                     .stored = from_store(&run_settings::max_time_s, positive),
                                     .flag = flags.max_time});
  auto stored_spec = [&](std::string run_settings::*field) {
    return r.demo ? std::nullopt
                  : from_store(field, [](const std::string& s) { return !s.empty(); });
  };
  r.planner = resolve(setting_sources<std::string>{.stored = stored_spec(&run_settings::planner),
                                                   .flag = flags.planner});
  r.coder = resolve(
    setting_sources<std::string>{.stored = stored_spec(&run_settings::coder), .flag = flags.coder});
  return r;
}

}  // namespace codehive
