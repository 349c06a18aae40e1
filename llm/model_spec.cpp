#include "llm/model_spec.hpp"

#include <cctype>
#include <string>
#include <vector>

namespace codehive::llm {

namespace {

constexpr const char* kExamples =
    "expected e.g. ollama://127.0.0.1:11434/qwen2.5-coder:7b, "
    "openai://127.0.0.1:8000/v1/gpt-4o-mini, "
    "openai+https://api.openai.com/v1/gpt-4o-mini or "
    "openai+https://NAME.openai.azure.com/openai/deployments/DEPLOYMENT?api-version=2024-10-21";

error bad(std::string_view spec, const std::string& why) {
  error e;
  e.code = errc::bad_config;
  e.message = "bad model spec '" + std::string(spec) + "': " + why + "; " + kExamples;
  return e;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// "v1", "v1beta", "v2alpha1": the API version segment that ends an OpenAI base path.
bool is_version_segment(std::string_view seg) {
  if (seg.size() < 2 || seg[0] != 'v' || !std::isdigit(static_cast<unsigned char>(seg[1])))
    return false;
  for (char c : seg)
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

}  // namespace

result<model_spec> parse_model_spec(std::string_view full) {
  std::string_view spec = full;
  if (spec.empty()) return bad(spec, "empty spec");
  for (char c : spec) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad(spec, "contains whitespace or control characters");
    if (c == '#') return bad(spec, "fragments are not allowed");
  }
  // A query string (Azure's api-version) goes with every request URL.
  std::string query;
  if (auto q = spec.find('?'); q != std::string_view::npos) {
    query = std::string(spec.substr(q + 1));
    spec = spec.substr(0, q);
    if (query.empty()) return bad(full, "empty query string after '?'");
    if (query.find('?') != std::string::npos) return bad(full, "more than one '?'");
  }
  auto sep = spec.find("://");
  if (sep == std::string_view::npos) return bad(spec, "missing '<scheme>://'");
  std::string scheme = lower(spec.substr(0, sep));
  model_spec out;
  bool tls = false;
  if (scheme == "ollama" || scheme == "ollama+http") {
    out.kind = api::ollama;
  } else if (scheme == "ollama+https") {
    out.kind = api::ollama;
    tls = true;
  } else if (scheme == "openai" || scheme == "openai+http") {
    out.kind = api::openai;
  } else if (scheme == "openai+https") {
    out.kind = api::openai;
    tls = true;
  } else {
    return bad(spec, "unknown scheme '" + std::string(spec.substr(0, sep)) +
                         "' (use ollama, openai or openai+https)");
  }
  std::string_view rest = spec.substr(sep + 3);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (authority.empty()) return bad(spec, "missing host");
  if (authority.find('@') != std::string_view::npos)
    return bad(spec, "credentials in the spec are not allowed (name the API key's environment variable in the config)");

  // host, optionally [IPv6], optionally :port
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad(spec, "unterminated '[' in IPv6 host");
    host = authority.substr(0, close + 1);
    if (host.size() <= 2) return bad(spec, "empty IPv6 host");
    for (char c : host.substr(1, host.size() - 2))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return bad(spec, "bad IPv6 host '" + std::string(host) + "'");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad(spec, "unexpected text after IPv6 host");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) return bad(spec, "missing host");
    for (char c : host)
      if (!is_host_char(c)) return bad(spec, "bad character '" + std::string(1, c) + "' in host");
  }
  int port = 0;
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5) return bad(spec, "bad port '" + std::string(port_text) + "'");
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return bad(spec, "bad port '" + std::string(port_text) + "' (must be a number 1-65535)");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535)
      return bad(spec, "bad port '" + std::string(port_text) + "' (must be a number 1-65535)");
  } else if (out.kind == api::ollama) {
    port = 11434;
  }

  std::string base = tls ? "https://" : "http://";
  base += host;
  if (port != 0) {
    base += ':';
    base += std::to_string(port);
  }

  if (out.kind == api::ollama) {
    if (path.empty()) return bad(spec, "missing model name after the host");
    if (path.front() == '/' || path.back() == '/' || path.find("//") != std::string_view::npos)
      return bad(spec, "empty path segment in model name '" + std::string(path) + "'");
    out.base_url = std::move(base);
    out.model = std::string(path);
    out.query = std::move(query);
    return out;
  }

  // openai: base path = segments up to and including the first version segment.
  std::vector<std::string_view> segs;
  {
    std::size_t pos = 0;
    while (pos <= path.size() && !path.empty()) {
      auto next = path.find('/', pos);
      if (next == std::string_view::npos) next = path.size();
      segs.push_back(path.substr(pos, next - pos));
      pos = next + 1;
    }
  }
  // Azure OpenAI: .../deployments/NAME is the whole base; the deployment
  // names the model (requests go to .../deployments/NAME/chat/completions).
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (i + 2 != segs.size() || segs[i] != "deployments") continue;
    for (auto seg : segs) {
      if (seg.empty()) return bad(spec, "empty path segment in '" + std::string(path) + "'");
      base += '/';
      base += seg;
    }
    out.base_url = std::move(base);
    out.model = std::string(segs.back());
    out.model_in_path = true;
    out.query = std::move(query);
    return out;
  }
  std::size_t ver = segs.size();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (is_version_segment(segs[i])) {
      ver = i;
      break;
    }
  }
  if (ver == segs.size())
    return bad(spec, "missing API version path segment (such as /v1) before the model name, "
                     "or /deployments/NAME (Azure)");
  // Gemini's OpenAI-compatible path is /v1beta/openai/: "openai" right after
  // a version other than v1 is part of the base (after /v1 it is an
  // organisation, as in vLLM's openai/gpt-oss-20b).
  if (segs[ver] != "v1" && ver + 2 < segs.size() && segs[ver + 1] == "openai") ++ver;
  for (std::size_t i = 0; i <= ver; ++i) {
    if (segs[i].empty()) return bad(spec, "empty path segment in the base path");
    base += '/';
    base += segs[i];
  }
  if (ver + 1 >= segs.size() || (ver + 2 == segs.size() && segs.back().empty()))
    return bad(spec, "missing model name after the base path");
  std::string model;
  for (std::size_t i = ver + 1; i < segs.size(); ++i) {
    if (segs[i].empty()) return bad(spec, "empty path segment in model name");
    if (!model.empty()) model += '/';
    model += segs[i];
  }
  out.base_url = std::move(base);
  out.model = std::move(model);
  out.query = std::move(query);
  return out;
}

std::string to_string(const model_spec& s) {
  std::string_view base = s.base_url;
  bool tls = false;
  if (base.substr(0, 8) == "https://") {
    tls = true;
    base.remove_prefix(8);
  } else if (base.substr(0, 7) == "http://") {
    base.remove_prefix(7);
  }
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string out = s.kind == api::ollama ? "ollama" : "openai";
  if (tls) out += "+https";
  out += "://";
  out += base;
  if (!s.model_in_path) {
    out += '/';
    out += s.model;
  }
  if (!s.query.empty()) {
    out += '?';
    out += s.query;
  }
  return out;
}

}  // namespace codehive::llm
