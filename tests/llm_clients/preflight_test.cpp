// Preflight: what the server itself says about the model, before any paid call.
#include <gtest/gtest.h>

#include <httplib.h>

#include <map>
#include <string>

#include "llm/preflight.hpp"
#include "tests/llm_clients/capture_server.hpp"
#include "tests/llm_clients/fixture.hpp"

using namespace codehive::llm;
using namespace codehive::llm::testing;

namespace {

/// A responder that answers each path of `bodies` with its JSON body, any other with 404.
auto by_path(std::map<std::string, std::string> bodies) {
  return [bodies = std::move(bodies)](const httplib::Request& req, httplib::Response& res) {
    auto it = bodies.find(req.path);
    if (it == bodies.end())
      res.status = 404;
    else
      res.set_content(it->second, "application/json");
  };
}

}  // namespace

// Bodies in the shapes Ollama documents (docs/api.md: /api/tags, /api/show, /api/ps).
TEST(Preflight, OllamaShowsWindowCapabilitiesAndLoadedContext) {
  capture_server srv(by_path(
    {{"/api/tags", R"({"models":[{"name":"qwen3:8b","model":"qwen3:8b"}]})"},
     {"/api/show",
      R"({"model_info":{"general.architecture":"qwen3","qwen3.context_length":40960},"capabilities":["completion","tools","thinking"]})"},
     {"/api/ps", R"({"models":[{"name":"qwen3:8b","model":"qwen3:8b","context_length":4096}]})"}}));
  http_loop loop;
  auto c = config_for(api::ollama, srv.base(), "qwen3:8b");
  c.context_tokens = 65536;
  auto r = preflight_sync(loop, c);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_TRUE(r->model_present);
  EXPECT_EQ(r->context_window, 40960);
  EXPECT_EQ(r->loaded_context, 4096);
  ASSERT_TRUE(r->thinking.has_value());
  EXPECT_TRUE(*r->thinking);
  std::string notes;
  for (const auto& n : r->notes) notes += n + "\n";
  // Apart from the notes: a run words its own, with its coder count (PersonalityDemo.Ollama).
  EXPECT_EQ(notes.find("OLLAMA_NUM_PARALLEL"), std::string::npos) << notes;
  EXPECT_NE(r->parallel_note.find("OLLAMA_NUM_PARALLEL=N"), std::string::npos) << r->parallel_note;
  EXPECT_NE(notes.find("reloads the model once"), std::string::npos) << notes;
  EXPECT_NE(notes.find("larger than the window 40960"), std::string::npos) << notes;
  EXPECT_FALSE(fit_context(c, *r).empty());
  EXPECT_EQ(c.context_tokens, 40960);
}

TEST(Preflight, OllamaMissingModelSaysHowToPullIt) {
  capture_server srv([](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"models":[{"name":"llama3:latest"}]})", "application/json");
  });
  http_loop loop;
  auto r = preflight_sync(loop, config_for(api::ollama, srv.base(), "qwen3:8b"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::model_missing);
  EXPECT_NE(r.err().message.find("ollama pull qwen3:8b"), std::string::npos) << r.err().message;
}

// vLLM lists max_model_len in /v1/models.
TEST(Preflight, VllmMaxModelLen) {
  capture_server srv(by_path(
    {{"/v1/models",
      R"({"object":"list","data":[{"id":"Qwen/Qwen2.5-Coder-7B-Instruct","object":"model","max_model_len":32768}]})"}}));
  http_loop loop;
  auto r = preflight_sync(loop, config_for(api::openai, srv.base(), "Qwen/Qwen2.5-Coder-7B-Instruct"));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->context_window, 32768);
  EXPECT_EQ(r->parallel, 0);
}

// llama.cpp server: /props beside /v1.
TEST(Preflight, LlamaCppProps) {
  capture_server srv(
    by_path({{"/v1/models", R"({"object":"list","data":[{"id":"model.gguf","object":"model"}]})"},
             {"/props", R"({"default_generation_settings":{"n_ctx":8192},"total_slots":4})"}}));
  http_loop loop;
  auto c = config_for(api::openai, srv.base(), "model.gguf");
  c.context_tokens = 4096;
  auto r = preflight_sync(loop, c);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->context_window, 8192);
  EXPECT_EQ(r->parallel, 4);
  EXPECT_TRUE(fit_context(c, *r).empty());
  EXPECT_EQ(c.context_tokens, 4096);
}
