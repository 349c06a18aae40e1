// `codehive approve RUN --http H:P`: the user's word on a plan that a
// `run --approve-plan` waits on. The run's process holds the run store (one
// process only), so the word goes to its HTTP API: POST
// /api/runs/RUN/approve (body: an edited plan, or none: the run reads its
// generated_files/tasks.json) or /reject (body: the reason).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <httplib.h>
#include <rapidjson/document.h>

#include "common/read_file.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/http/api_server.hpp"

namespace codehive {

namespace {

/// The "message" (else "error") of a JSON reply, else the body itself.
std::string said(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (!d.HasParseError() && d.IsObject()) {
    for (const char* key : {"message", "error"})
      if (auto it = d.FindMember(key); it != d.MemberEnd() && it->value.IsString())
        return it->value.GetString();
  }
  return body;
}

}  // namespace

int approve_command(const approve_options& o) {
  http_flags flags;
  flags.listen = o.http;
  flags.token_file = o.token_file;
  std::string err;
  // The same rules as the server's: HOST:PORT, the token file or environment.
  auto cfg = check_http_flags(flags, err);
  if (!cfg)
    return usage_error("approve", err);
  if (cfg->port == 0)
    return usage_error("approve", "--http needs the run's port (its `http: URL` line)");
  std::string body;
  if (!o.plan_file.empty()) {
    auto read = read_whole_file(o.plan_file);
    if (!read)
      return usage_error("approve", "--plan: cannot read " + o.plan_file);
    body = std::move(*read);
    if (body.empty())
      return usage_error("approve", "--plan: " + o.plan_file + " is empty");
  }
  if (o.reject) {
    if (!o.plan_file.empty())
      return usage_error("approve", "--plan approves an edited plan; it does not go with --reject");
    body = o.reason;
  } else if (!o.reason.empty()) {
    return usage_error("approve", "--reason goes with --reject");
  }
  auto host = cfg->host.find(':') != std::string::npos ? "[" + cfg->host + "]" : cfg->host;
  httplib::Client cli{host, cfg->port};
  cli.set_connection_timeout(10, 0);
  cli.set_read_timeout(90, 0);  // the run answers at once; its own bound is 60 s
  httplib::Headers headers;
  if (!cfg->token.empty())
    headers.emplace("Authorization", "Bearer " + cfg->token);
  const std::string path = "/api/runs/" + o.run_id + (o.reject ? "/reject" : "/approve");
  auto res = cli.Post(path, headers, body, body.empty() ? "text/plain" : "application/json");
  if (!res)
    return usage_error("approve",
                       "cannot reach " + o.http + ": " + httplib::to_string(res.error()));
  if (res->status != 200)
    return usage_error("approve", said(res->body) + " (HTTP " + std::to_string(res->status) + ")");
  std::printf("codehive %s: %s\n", o.run_id.c_str(), said(res->body).c_str());
  return exit_code::ok;
}

}  // namespace codehive
