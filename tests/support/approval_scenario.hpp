// The llm-sim scenario of the plan approval tests through real processes
// (tests/cli/approve_test.cpp: the approve command; tests/http/approval_http_test.cpp:
// the HTTP API): a plan of two files, hello.txt then bye.txt, and a coder for
// thanks.txt, which only an edited plan asks for.
#pragma once

#include <string>

namespace codehive::test {

inline const std::string approval_scenario = R"json({"models":["small","big"],
  "latency":{"ttft_ms":5,"tokens_per_s":100000},"rules":[
  {"name":"plan","match":{"role":"planner"},"response":{"json":{"tasks":[
    {"id":"hello","action":"create","type":"file","path":"hello.txt","description":"a greeting",
     "instructions":"Say hello."},
    {"id":"bye","action":"create","type":"file","path":"bye.txt","description":"a farewell",
     "instructions":"Say goodbye.","depends_on":["hello"]}]}}},
  {"name":"hello","match":{"role":"coder","path":"hello.txt"},
   "response":{"json":{"kind":"whole","content":"hello\n","summary":"a greeting"}}},
  {"name":"bye","match":{"role":"coder","path":"bye.txt"},
   "response":{"json":{"kind":"whole","content":"bye\n","summary":"a farewell"}}},
  {"name":"thanks","match":{"role":"coder","path":"thanks.txt"},
   "response":{"json":{"kind":"whole","content":"thanks\n","summary":"thanks"}}},
  {"name":"summary","match":{"role":"summarizer"},"response":{"json":{"summary":"a note"}}},
  {"name":"review","match":{"role":"reviewer"},"response":{"json":{"issues":[]}}}]})json";

}  // namespace codehive::test
