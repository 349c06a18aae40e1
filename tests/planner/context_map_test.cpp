// The coder's context map index (actors/planner/context_map.*): which words of
// a task's instructions name a file, and that lookups by name and folder list
// the places a full scan of the run would, in its order, as files land and
// plans are replaced.
#include <gtest/gtest.h>

#include "actors/planner/context_map.hpp"

using namespace codehive;
using codehive::planner::context_map;
using codehive::planner::names_in;

namespace {

std::vector<std::string> names(std::string_view text) {
  auto v = names_in(text);
  return {v.begin(), v.end()};
}

msg::file_task task_at(std::string path) {
  msg::file_task t;
  t.path = std::move(path);
  return t;
}

msg::applied_file file_at(std::string path) {
  msg::applied_file f;
  f.path = std::move(path);
  return f;
}

using places = std::vector<std::size_t>;

}  // namespace

TEST(ContextMapNames, AWordsLastComponentIsTheNameAndProsePunctuationIsNotPartOfIt) {
  EXPECT_EQ(names("call helper() from lib/f999x.js and src/f3.js."),
            (std::vector<std::string>{"call", "helper", "from", "f999x.js", "and", "f3.js"}));
  EXPECT_EQ(names("see `style.css`, \"app.js\" (and ./src/index.html)"),
            (std::vector<std::string>{"see", "style.css", "app.js", "and", "index.html"}));
  EXPECT_EQ(names("import x from '../lib/util-2.mjs';\nuse a_b.py#L3"),
            (std::vector<std::string>{"import", "x", "from", "util-2.mjs", "use", "a_b.py", "L3"}));
  EXPECT_TRUE(names("  ,;  ... src/ ").empty()) << "a folder or dots alone name no file";
}

TEST(ContextMap, LooksFilesAndTasksUpByWholeNameAndByFolderInTheirOrder) {
  planner_run run;
  run.replace_tasks({task_at("src/app.js"), task_at("src/myapp.js"), task_at("lib/app.js"),
                     task_at("index.html")});
  run.files = {file_at("lib/app.js"), file_at("src/x.css")};
  run.reindex_files();
  context_map map;
  map.refresh(run);
  const auto* app = map.named("app.js");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->tasks, (places{0, 2})) << "myapp.js is another name";
  EXPECT_EQ(app->files, (places{0}));
  const auto* src = map.in_folder("src");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->tasks, (places{0, 1}));
  EXPECT_EQ(src->files, (places{1}));
  const auto* top = map.in_folder("");
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->tasks, (places{3}));
  EXPECT_EQ(map.named("nothing.js"), nullptr);
}

TEST(ContextMap, FilesThatLandAfterTheIndexAreFoundAndANewPlanReplacesTheOldOne) {
  planner_run run;
  run.replace_tasks({task_at("src/a.js")});
  context_map map;
  map.refresh(run);
  ASSERT_NE(map.named("a.js"), nullptr);
  EXPECT_TRUE(map.named("a.js")->files.empty());

  run.remember(file_at("src/b.js"));
  run.remember(file_at("src/a.js"));
  map.refresh(run);
  EXPECT_EQ(map.named("a.js")->files, (places{1})) << "a file that landed is found by its name";
  EXPECT_EQ(map.in_folder("src")->files, (places{0, 1}));

  run.replace_tasks({task_at("lib/c.js")});
  map.refresh(run);
  EXPECT_TRUE(map.named("a.js")->tasks.empty()) << "the old plan's task is gone";
  EXPECT_EQ(map.named("a.js")->files, (places{1})) << "the files are still there";
  ASSERT_NE(map.named("c.js"), nullptr);
  EXPECT_EQ(map.named("c.js")->tasks, (places{0}));

  run.files = {file_at("src/a.js")};  // a tracker listing in place of the records
  run.reindex_files();
  map.refresh(run);
  EXPECT_EQ(map.named("a.js")->files, (places{0}));
  EXPECT_TRUE(map.named("b.js") == nullptr || map.named("b.js")->files.empty());
}
