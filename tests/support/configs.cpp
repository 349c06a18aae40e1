#include "tests/support/configs.hpp"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <stdexcept>

#include "tests/support/child_process.hpp"

namespace codehive::test {

namespace fs = std::filesystem;

const fs::path& source_dir() {
  static const fs::path dir = CODEHIVE_SOURCE_DIR;
  return dir;
}

const fs::path& demo_dir() {
  static const fs::path dir = source_dir() / "configs" / "demo";
  return dir;
}

const fs::path& demo_app_dir() {
  static const fs::path dir = demo_dir() / "app";
  return dir;
}

std::string trim_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

std::string demo_request() {
  return trim_end(read_whole_file(demo_dir() / "request.txt"));
}

std::vector<std::string> files_under(const fs::path& root) {
  std::vector<std::string> out;
  if (!fs::exists(root))
    return out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file())
      out.push_back(fs::relative(e.path(), root).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string>& demo_app_files() {
  static const std::vector<std::string> files = [] {
    auto all = files_under(demo_app_dir());
    // A missing app would make every "each file of the app" check vacuous.
    if (all.empty())
      throw std::runtime_error(demo_app_dir().string() + " holds no files");
    return all;
  }();
  return files;
}

std::string demo_output_differences(const fs::path& out) {
  std::string problems;
  for (const auto& rel : demo_app_files()) {
    const fs::path got = out / rel;
    if (!fs::is_regular_file(got)) {
      problems += "  missing: " + rel + "\n";
      continue;
    }
    const std::string a = read_whole_file(got), b = read_whole_file(demo_app_dir() / rel);
    if (a != b)
      problems += "  differs: " + rel + " (" + std::to_string(a.size()) + " bytes, expected " +
                  std::to_string(b.size()) + ")\n";
  }
  const std::set<std::string> expected(demo_app_files().begin(), demo_app_files().end());
  for (const auto& rel : files_under(out)) {
    if (rel.rfind("generated_files/", 0) == 0 || rel[0] == '.') continue;
    if (!expected.count(rel)) problems += "  unexpected file: " + rel + "\n";
  }
  return problems;
}

fs::path write_demo_config(const fs::path& dir) {
  rapidjson::Document d;
  const std::string text = read_whole_file(source_dir() / "configs" / "codehive.json");
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject())
    throw std::runtime_error("configs/codehive.json does not parse");
  auto& a = d.GetAllocator();
  auto set_string = [&](const char* key, const std::string& v) {
    rapidjson::Value val(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), a);
    if (d.HasMember(key))
      d[key] = val;
    else
      d.AddMember(rapidjson::Value(key, a), val, a);
  };
  set_string("prompts_dir", (source_dir() / "configs" / "prompts").string());
  set_string("schemas_dir", (source_dir() / "configs" / "schemas").string());
  if (!d.HasMember("validators"))
    d.AddMember("validators", rapidjson::Value(rapidjson::kObjectType), a);
  if (!d["validators"].IsObject())
    throw std::runtime_error("configs/codehive.json: validators is not an object");
  if (d["validators"].HasMember("browser"))
    d["validators"]["browser"] = false;
  else
    d["validators"].AddMember("browser", false, a);
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  fs::create_directories(dir);
  const fs::path p = dir / "codehive.json";
  std::ofstream(p, std::ios::binary | std::ios::trunc) << buf.GetString();
  return p;
}

std::string plain_config_json(const std::string& extra_keys) {
  const std::string src = source_dir().string();
  return "{\"validators\":{\"browser\":false},\"prompts_dir\":\"" + src
         + "/configs/prompts\",\"schemas_dir\":\"" + src + "/configs/schemas\"" + extra_keys + "}";
}

std::string write_plain_config(const fs::path& dir, const std::string& extra_keys) {
  fs::create_directories(dir);
  const fs::path p = dir / "codehive.json";
  std::ofstream(p, std::ios::binary | std::ios::trunc) << plain_config_json(extra_keys);
  return p.string();
}

}  // namespace codehive::test
