// The actor interfaces whose handles travel between nodes inside messages
// (worker_offer, submit_run): a worker offers its coders and fixers, a client
// its progress sink. They live here, below actors/, so that messages can hold
// them typed; actors/interfaces.hpp includes this header and declares the rest.
#pragma once

#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>  // caf::tick_atom
#include <caf/typed_actor.hpp>

#include "messages/messages.hpp"

namespace codehive {

/// Progress sink (the CLI's status line / log). Fire-and-forget.
using progress_actor = caf::typed_actor<
  // Something happened in the run; print or record it.
  caf::reacts_to<msg::progress_event>,
  // Internal: redraw (the elapsed time moves on between events).
  caf::reacts_to<caf::tick_atom>,
  // A file version of the run, for a client that keeps a copy of the results
  // (run --coordinator); other sinks ignore it.
  caf::reacts_to<msg::file_copy>>;

/// Coder: one file task in, one edit out. Stateless between tasks.
using coder_actor = caf::typed_actor<
  // Ask the model for the file described by the request; re-asks with the
  // reason on an unparsable or unappliable answer; replies with the edit or
  // an error (ec::bad_answer after the attempts, ec::model_* on transport).
  caf::replies_to<msg::code_request>::with<msg::file_edit>,
  // Internal: a model answer, sent from the HTTP loop's thread.
  caf::reacts_to<msg::llm_reply>>;

/// Fixer: one review issue in, one edit out.
using fixer_actor = caf::typed_actor<
  // Ask the model to fix the issue in the request's file; same retry rules
  // as the coder.
  caf::replies_to<msg::fix_request>::with<msg::file_edit>,
  // Internal: a model answer.
  caf::reacts_to<msg::llm_reply>>;

}  // namespace codehive
