#include <httplib.h>

#include <strings.h>

#include "tests/support/sim_process.hpp"

namespace codehive::test {

namespace {

httplib::Headers to_headers(const std::map<std::string, std::string>& h) {
  httplib::Headers out;
  for (const auto& [k, v] : h) out.emplace(k, v);
  return out;
}

void set_timeouts(httplib::Client& cli, int timeout_ms) {
  const time_t sec = timeout_ms / 1000;
  const time_t usec = (timeout_ms % 1000) * 1000;
  cli.set_connection_timeout(sec, usec);
  cli.set_read_timeout(sec, usec);
  cli.set_write_timeout(sec, usec);
}

http_reply to_reply(httplib::Result&& res) {
  http_reply out;
  if (!res) {
    out.error = httplib::to_string(res.error());
    return out;
  }
  out.status = res->status;
  out.body = res->body;
  for (const auto& [k, v] : res->headers) out.headers.emplace(k, v);
  return out;
}

}  // namespace

std::string http_reply::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return {};
}

http_reply http_get(const std::string& base_url, const std::string& path,
                    const std::map<std::string, std::string>& headers, int timeout_ms) {
  httplib::Client cli(base_url);
  set_timeouts(cli, timeout_ms);
  return to_reply(cli.Get(path, to_headers(headers)));
}

http_reply http_post(const std::string& base_url, const std::string& path, const std::string& body,
                     const std::map<std::string, std::string>& headers, int timeout_ms,
                     const std::string& content_type) {
  httplib::Client cli(base_url);
  set_timeouts(cli, timeout_ms);
  return to_reply(cli.Post(path, to_headers(headers), body, content_type));
}

}  // namespace codehive::test
