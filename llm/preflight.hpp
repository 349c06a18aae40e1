// Preflight: ask a model server itself what it serves before any paid call.
// Ollama: /api/tags (is the model pulled), /api/show (its context window and
// capabilities), /api/ps (the window it is loaded with). OpenAI-compatible:
// /models (vLLM adds max_model_len) and, for llama.cpp server, /props (n_ctx,
// total_slots). Blocking: for CLIs and before a run starts, never in an actor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "llm/error.hpp"
#include "llm/types.hpp"

namespace codehive::llm {

class http_loop;

struct preflight_report {
  bool model_present = false;
  int context_window = 0;  ///< the model's window as the server reports it; 0 = unknown
  int loaded_context = 0;  ///< Ollama: num_ctx the model is loaded with now (/api/ps); 0 = not loaded/unknown
  int parallel = 0;        ///< requests the server runs at once (llama.cpp total_slots); 0 = unknown
  std::optional<bool> thinking;  ///< Ollama: the model has the "thinking" capability
  std::vector<std::string> notes;  ///< what a user should know, one line each
  /// How many calls the server runs at once, worded for any number of
  /// callers, when the server cannot say (Ollama: OLLAMA_NUM_PARALLEL is not
  /// in its API). Apart from `notes` because a run words its own, with its
  /// coder count (nodes/run_session.cpp); `codehive ping` prints this one.
  std::string parallel_note;
};

/// Everything the server tells about `cfg`'s model. Errors: unreachable,
/// timeout, http_status, model_missing (with the `ollama pull` hint).
result<preflight_report> preflight_sync(http_loop& loop, const endpoint_config& cfg);

/// context_tokens lowered to the server's window when it is known and
/// smaller (a prompt larger than the window is then refused here, before any
/// traffic, instead of by the server); returns the note to print, "" if none.
std::string fit_context(endpoint_config& cfg, const preflight_report& r);

}  // namespace codehive::llm
