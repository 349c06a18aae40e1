// Where a command's settings come from, in the one order every command uses:
// built-in defaults < config file < environment < stored run settings < flags
// (nodes/commands/settings_resolution.hpp). A real config file, loaded as the
// commands load it; the environment as a table; flags as the parsed options.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "nodes/commands.hpp"
#include "nodes/commands/settings_resolution.hpp"
#include "nodes/config.hpp"

using namespace codehive;
namespace fs = std::filesystem;

namespace {

/// A config file that sets the run's coders and rounds and the store folder
/// (and leaves fixers and budgets to the built-in defaults).
struct config_file_fixture {
  fs::path dir = fs::temp_directory_path() / ("codehive-settings-" + std::to_string(::getpid()));
  fs::path file = dir / "codehive.json";
  config_file_fixture() {
    fs::create_directories(dir);
    std::ofstream{file} << R"({"run": {"coders": 7, "max_rounds": 5, "max_tokens": 1000},
                               "store": {"path": "/from/config/store"},
                               "cluster": {"token_file": "token-from-config"}})";
  }
  ~config_file_fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  codehive_config load() const {
    std::string err;
    // Quiet: the file names no prompts or schemas (the built-in ones serve).
    auto level = spdlog::get_level();
    spdlog::set_level(spdlog::level::off);
    auto cfg = load_config(file, err);
    spdlog::set_level(level);
    EXPECT_TRUE(cfg) << err;
    return cfg.value_or(codehive_config{});
  }
};

environment_settings environment(std::map<std::string, std::string> vars) {
  return environment_from([&vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST(SettingsResolution,
     TheStoreFolderComesFromTheFlagThenTheEnvironmentThenTheConfigThenTheDefault) {
  config_file_fixture fx;
  auto cfg = fx.load();
  const fs::path user_default = "/home/someone/.local/share/codehive/store";
  auto none = environment({});
  auto env = environment({{"CODEHIVE_STORE", "/from/env/store"}});

  EXPECT_EQ(store_folder("", none, "", user_default), user_default);
  EXPECT_EQ(store_folder("", none, cfg.store.path, user_default), "/from/config/store");
  EXPECT_EQ(store_folder("", env, cfg.store.path, user_default), "/from/env/store");
  EXPECT_EQ(store_folder("/from/flag", env, cfg.store.path, user_default), "/from/flag");
  // An empty variable is no setting; with no default known there is none.
  EXPECT_EQ(store_folder("", environment({{"CODEHIVE_STORE", ""}}), "", std::nullopt),
            std::nullopt);
}

TEST(SettingsResolution, RunSettingsComeFromTheFlagsThenTheStoredRunThenTheConfigFile) {
  config_file_fixture fx;
  auto cfg = fx.load();
  run_options flags;

  auto fresh = resolve_run_settings(flags, cfg.run, nullptr);
  EXPECT_EQ(fresh.coders, 7) << "the config file's";
  EXPECT_EQ(fresh.fixers, run_defaults{}.fixers) << "the built-in default";
  EXPECT_EQ(fresh.max_rounds, 5);
  EXPECT_EQ(fresh.max_tokens, 1000);
  EXPECT_EQ(fresh.planner, "") << "no SPEC over the config's";

  run_settings stored;
  stored.coders = 3;
  stored.fixers = 1;
  stored.max_rounds = 2;
  stored.max_tokens = 0;  // unlimited when it was stored: no setting, the config's applies
  stored.max_cost_usd = 2.5;
  stored.planner = "openai://127.0.0.1:1/v1/stored-planner";
  stored.approve_plan = true;
  auto resumed = resolve_run_settings(flags, cfg.run, &stored);
  EXPECT_EQ(resumed.coders, 3);
  EXPECT_EQ(resumed.fixers, 1);
  EXPECT_EQ(resumed.max_rounds, 2);
  EXPECT_EQ(resumed.max_tokens, 1000);
  EXPECT_EQ(resumed.max_cost_usd, 2.5);
  EXPECT_EQ(resumed.planner, "openai://127.0.0.1:1/v1/stored-planner");
  EXPECT_TRUE(resumed.approve_plan);

  flags.coders = 9;
  flags.max_tokens = 50;
  flags.planner = "openai://127.0.0.1:2/v1/flag-planner";
  auto overridden = resolve_run_settings(flags, cfg.run, &stored);
  EXPECT_EQ(overridden.coders, 9);
  EXPECT_EQ(overridden.fixers, 1) << "what the flags leave out stays the stored run's";
  EXPECT_EQ(overridden.max_tokens, 50);
  EXPECT_EQ(overridden.planner, "openai://127.0.0.1:2/v1/flag-planner");

  // A demo points every model at its simulator: a stored SPEC is no setting.
  stored.demo = true;
  flags.planner.reset();
  auto demo = resolve_run_settings(flags, cfg.run, &stored);
  EXPECT_TRUE(demo.demo);
  EXPECT_EQ(demo.planner, "");
}

TEST(SettingsResolution, TheConfigFileComesFromTheFlagThenTheEnvironmentThenTheInstalledOne) {
  const fs::path installed = "/usr/share/codehive/codehive.json";
  auto env = environment({{"CODEHIVE_CONFIG", "/from/env.json"}});
  EXPECT_EQ(config_file("", environment({}), std::nullopt), std::nullopt) << "built-in defaults";
  EXPECT_EQ(config_file("", environment({}), installed), installed);
  EXPECT_EQ(config_file("", env, installed), "/from/env.json");
  EXPECT_EQ(config_file("/from/flag.json", env, installed), "/from/flag.json");
}

TEST(SettingsResolution, TheJoinTokenComesFromTheFlagFileThenTheEnvironmentThenTheConfigFile) {
  config_file_fixture fx;
  auto cfg = fx.load();
  auto from_config = join_token_source("", environment({}), cfg.cluster.token_file);
  ASSERT_TRUE(from_config);
  EXPECT_EQ(fs::path{from_config->file}, fx.dir / "token-from-config")
    << "relative to the config's folder";

  auto env = environment({{"CODEHIVE_JOIN_TOKEN", "from-env \n"}});
  auto from_env = join_token_source("", env, cfg.cluster.token_file);
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->value, "from-env");
  EXPECT_EQ(from_env->file, "");

  auto from_flag = join_token_source("/flag/token", env, cfg.cluster.token_file);
  ASSERT_TRUE(from_flag);
  EXPECT_EQ(from_flag->file, "/flag/token");

  // A blank variable is no token: the config's file still counts.
  auto blank =
    join_token_source("", environment({{"CODEHIVE_JOIN_TOKEN", " \n"}}), cfg.cluster.token_file);
  ASSERT_TRUE(blank);
  EXPECT_EQ(fs::path{blank->file}, fx.dir / "token-from-config");
  EXPECT_FALSE(join_token_source("", environment({}), ""));
}

TEST(SettingsResolution, TheEnvironmentIsReadFromTheVariablesThatCarrySettings) {
  auto env = environment({{"CODEHIVE_HTTP_TOKEN", "bearer"},
                          {"CODEHIVE_DEMO_DIR", "/demo"},
                          {"CODEHIVE_LLM_SIM", "/bin/llm-sim"},
                          {"OPENAI_API_KEY", ""},
                          {"EDITOR", "nano"}});
  ASSERT_TRUE(http_token_source("", env));
  EXPECT_EQ(http_token_source("", env)->value, "bearer");
  EXPECT_EQ(http_token_source("/token/file", env)->file, "/token/file");
  EXPECT_FALSE(http_token_source("", environment({})));
  EXPECT_EQ(demo_folder(env, fs::path{"/installed/demo"}), "/demo");
  EXPECT_EQ(demo_folder(environment({}), fs::path{"/installed/demo"}), "/installed/demo");
  EXPECT_EQ(simulator_binary(env, std::nullopt), "/bin/llm-sim");
  EXPECT_TRUE(env.openai_key) << "set, even empty";
  EXPECT_FALSE(environment({}).openai_key);
  EXPECT_EQ(editor_command(env), "nano");
  EXPECT_EQ(editor_command(environment({{"VISUAL", "code -w"}, {"EDITOR", "nano"}})), "code -w");
  EXPECT_EQ(editor_command(environment({})), "vi");
}
