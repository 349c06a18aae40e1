// What every test of the actors on a real actor system starts from: the system with our
// message types, a scoped actor to talk to it, an output folder, and a run in a fresh
// run store with the built-in prompts and the browser validator off.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/settings.hpp"
#include "actors/spawn.hpp"
#include "messages/messages.hpp"
#include "messages/setup.hpp"
#include "storage/run_store.hpp"
#include "tests/support/sim_process.hpp"

namespace codehive::test {

struct actor_fixture : ::testing::Test {
  /// One config for the whole test program: CAF registers the message types once.
  static caf::actor_system_config& config() {
    static caf::actor_system_config cfg = [] {
      caf::actor_system_config c;
      register_messages(c);
      return c;
    }();
    return cfg;
  }
  caf::actor_system sys{config()};
  caf::scoped_actor self{sys};
  temp_dir dir{"codehive-actors"};
  temp_dir store_dir{"codehive-actors-store"};
  store_ptr runs = [this] {
    auto st = store::run_store::open(store_dir.path() / "store");
    if (!st)
      throw std::runtime_error(st.err().describe());
    return store_ptr{std::move(*st)};
  }();
  std::string run_id = *runs->create_run("test request", "{}");
  std::shared_ptr<pipeline_settings> settings = [] {
    auto s = std::make_shared<pipeline_settings>();
    s->prompts = builtin_prompts();
    s->validators.browser = false;
    return s;
  }();
};

/// An edit of run "run-test", task "t1" that creates `path` whole with `content`.
inline msg::file_edit whole_edit(const std::string& path, const std::string& content,
                                 const std::string& summary) {
  msg::file_edit e;
  e.run_id = "run-test";
  e.task_id = "t1";
  e.path = path;
  e.action = msg::task_action::create;
  e.kind = msg::edit_kind::whole;
  e.content = content;
  e.summary = summary;
  return e;
}

}  // namespace codehive::test
