// llm-sim: loopback model server for tests, the demo and benchmarks.
// Usage and scenario format: tools/llm-sim/README.md.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "personality.hpp"
#include "scenario.hpp"
#include "server.hpp"

namespace {

constexpr int exit_usage = 2;

/// Writes "PORT\n" atomically (write a temp file, then rename).
bool write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  // Taken first: the parent may exit right after it sees the port file.
  const pid_t parent = ::getppid();
  CLI::App app{"llm-sim: a loopback Ollama/OpenAI chat server that answers from a scenario file"};
  std::string scenario_path;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;
  std::uint64_t seed = 1;
  int threads = 128;
  std::string log_level = "info";
  bool exit_with_parent = false;
  std::string personality_name;
  std::vector<std::string> personality_options;
  app.add_option("--scenario", scenario_path, "scenario file (JSON), see tools/llm-sim/README.md")
      ->required();
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "port to listen on; 0 lets the OS choose")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--port-file", port_file, "also write the chosen port to this file");
  app.add_option("--seed", seed, "seed of the random faults")->capture_default_str();
  app.add_option("--threads", threads, "request threads (each waiting reply holds one)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.add_option("--personality", personality_name,
                 "behave as a real server: " + llm_sim::personality_names() +
                     " (overrides the scenario's \"personality\")");
  app.add_option("--personality-option", personality_options,
                 "KEY=VALUE option of the personality (repeatable), e.g. num_parallel=2");
  app.add_flag("--exit-with-parent", exit_with_parent,
               "stop when the process that started llm-sim exits (for test harnesses)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }

  auto logger = spdlog::stderr_logger_mt("llm-sim");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e llm-sim %l %v");
  logger->set_level(spdlog::level::from_str(log_level));
  spdlog::set_default_logger(logger);

  llm_sim::scenario sc;
  try {
    sc = llm_sim::load_scenario(scenario_path);
  } catch (const llm_sim::scenario_error& e) {
    std::cerr << "llm-sim: bad scenario: " << e.what() << std::endl;
    return exit_usage;
  }

  // The personality: the scenario's, unless the command line names one (then
  // the scenario's options apply only when it names the same one).
  llm_sim::personality persona;
  try {
    std::string name = sc.personality;
    std::map<std::string, std::string> options = sc.personality_options;
    if (!personality_name.empty() && personality_name != name) {
      name = personality_name;
      options.clear();
    }
    for (const auto& kv : personality_options) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw llm_sim::personality_error("--personality-option \"" + kv + "\" is not KEY=VALUE");
      options[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    persona = llm_sim::make_personality(name, options);
  } catch (const llm_sim::personality_error& e) {
    std::cerr << "llm-sim: " << e.what() << std::endl;
    return exit_usage;
  }

  // Signals go to one thread that stops the server; block them everywhere
  // else before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const std::size_t rules = sc.rules.size();
  const std::string persona_name = persona.name.empty() ? "none" : persona.name;
  llm_sim::server srv(std::move(sc), seed, threads, std::move(persona));
  const int bound = srv.bind(host, port);
  if (bound <= 0) {
    std::cerr << "llm-sim: cannot listen on " << host << ":" << port << std::endl;
    return 3;
  }
  if (!port_file.empty() && !write_port_file(port_file, bound)) {
    std::cerr << "llm-sim: cannot write the port file " << port_file << std::endl;
    return exit_usage;
  }
  std::cout << "llm-sim listening on http://" << host << ":" << bound << std::endl;
  spdlog::info("scenario {} ({} rules), seed {}, {} threads, personality {}", scenario_path, rules,
               seed, threads, persona_name);

  std::thread waiter([&srv, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    srv.stop();
  });
  // A test that crashes must not leave its simulator running: watch the parent.
  std::atomic<bool> serving{true};
  std::thread parent_watch;
  if (exit_with_parent) {
    parent_watch = std::thread([&srv, &serving, parent] {
      while (serving) {
        if (::getppid() != parent) {
          spdlog::info("parent {} exited: stopping", parent);
          srv.stop();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  const bool ok = srv.run();
  serving = false;
  if (parent_watch.joinable()) parent_watch.join();
  // Serving ended on its own (or by the signal): make sure the waiter wakes.
  ::kill(::getpid(), SIGTERM);
  waiter.join();
  spdlog::info("stopped");
  return ok ? 0 : 5;
}
