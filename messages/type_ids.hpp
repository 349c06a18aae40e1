// The one type-ID block of codehive: the wire contract. Every message type
// (and every vector used as a whole message) is listed here; CAF 0.17 drops a
// message whose type is not registered. Register with
// cfg.add_message_types<caf::id_block::codehive>() (see messages/setup.hpp).
// Append only: IDs are positional.
#pragma once

#include <string>
#include <vector>

#include <caf/type_id.hpp>

#include "messages/cluster.hpp"
#include "messages/handles.hpp"
#include "messages/messages.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(codehive, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(codehive, (codehive::msg::usage))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::budget))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::run_request))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::file_task))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::plan))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::context_file))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::code_request))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::replace_block))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::file_edit))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::applied_file))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::finding))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::validation_report))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::review_issue))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::review_request))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::review_result))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::fix_request))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::progress_event))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::llm_reply))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::export_file))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::run_result))

  // Vectors sent as a whole message (requests and replies of the tracker).
  CAF_ADD_TYPE_ID(codehive, (std::vector<std::string>))
  CAF_ADD_TYPE_ID(codehive, (std::vector<codehive::msg::applied_file>))
  CAF_ADD_TYPE_ID(codehive, (std::vector<codehive::msg::context_file>))
  CAF_ADD_TYPE_ID(codehive, (std::vector<codehive::msg::export_file>))

  // Atoms (0.17: 4-argument form, at most 10 characters).
  CAF_ADD_ATOM(codehive, codehive::atom, list, "list")
  CAF_ADD_ATOM(codehive, codehive::atom, read, "read")
  CAF_ADD_ATOM(codehive, codehive::atom, flush, "flush")
  CAF_ADD_ATOM(codehive, codehive::atom, validate, "validate")
  CAF_ADD_ATOM(codehive, codehive::atom, exports, "exports")
  CAF_ADD_ATOM(codehive, codehive::atom, deadline, "deadline")
  CAF_ADD_ATOM(codehive, codehive::atom, usage, "usage")

  // Several nodes (appended: IDs are positional).
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::worker_offer))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::join_request))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::join_reply))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::submit_run))
  CAF_ADD_ATOM(codehive, codehive::atom, cancel, "cancel")

  // Validation as a pipeline stage (appended: IDs are positional).
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::precheck_file))
  // Plan approval (appended).
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::plan_decision))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::plan_verdict))
  // Results where the user is (appended).
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::file_copy))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::fetch_files))
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::fetched_files))
  // Actor handles carried by messages (appended): registered so that one can
  // also travel as a whole message, and so every handle type has a name.
  CAF_ADD_TYPE_ID(codehive, (codehive::progress_actor))
  CAF_ADD_TYPE_ID(codehive, (codehive::coder_actor))
  CAF_ADD_TYPE_ID(codehive, (codehive::fixer_actor))
  // A lost worker, from the registry to the planners (appended).
  CAF_ADD_TYPE_ID(codehive, (codehive::msg::worker_lost))
  // The planner's own timer for its live view (an atom: no type ID in 0.17).
  CAF_ADD_ATOM(codehive, codehive::atom, live, "live")

CAF_END_TYPE_ID_BLOCK(codehive)
