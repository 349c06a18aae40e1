#include "store_test_util.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace codehive::store::test {

namespace fs = std::filesystem;

temp_dir::temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "codehive-store-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

raw_db::raw_db(const fs::path& dir) {
  rocksdb::Options o;
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(o, dir.string(), &names);
  if (!s.ok()) throw std::runtime_error("raw_db list: " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions{});
  s = rocksdb::DB::Open(o, dir.string(), cfs, &handles_, &db_);
  if (!s.ok()) throw std::runtime_error("raw_db open: " + s.ToString());
}

raw_db::~raw_db() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
  delete db_;
}

rocksdb::ColumnFamilyHandle* raw_db::cf(const std::string& name) const {
  for (auto* h : handles_)
    if (h->GetName() == name) return h;
  throw std::runtime_error("no column family " + name);
}

void raw_db::put(const std::string& c, const std::string& key, const std::string& value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Put(wo, cf(c), key, value);
  if (!s.ok()) throw std::runtime_error("raw put: " + s.ToString());
}

void raw_db::del(const std::string& c, const std::string& key) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Delete(wo, cf(c), key);
  if (!s.ok()) throw std::runtime_error("raw delete: " + s.ToString());
}

std::string raw_db::get(const std::string& c, const std::string& key) const {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions{}, cf(c), key, &v);
  if (s.IsNotFound()) return "";
  if (!s.ok()) throw std::runtime_error("raw get: " + s.ToString());
  return v;
}

std::vector<std::string> raw_db::keys(const std::string& c) const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(rocksdb::ReadOptions{}, cf(c))};
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString());
  return out;
}

child_result run_child(const std::string& mode) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  // Build everything before fork: the child only calls execve.
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind("CODEHIVE_STORE_", 0) != 0) env_s.push_back(kv);
  }
  env_s.push_back("CODEHIVE_STORE_CHILD=" + mode);
  env_s.push_back("CODEHIVE_STORE_FD=" + std::to_string(fds[1]));
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string arg0 = "codehive_storage_tests-child";
  char* argv[] = {arg0.data(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::execve(self.c_str(), argv, envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  child_result r;
  r.pid = pid;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exited = WIFEXITED(status);
  r.exit_code = r.exited ? WEXITSTATUS(status) : -1;
  r.signaled = WIFSIGNALED(status);
  r.signal = r.signaled ? WTERMSIG(status) : 0;
  return r;
}

std::vector<task_spec> make_plan(int n, bool chain) {
  std::vector<task_spec> plan;
  for (int i = 0; i < n; ++i) {
    task_spec t;
    t.id = "t" + std::to_string(i);
    t.path = "src/file" + std::to_string(i) + ".js";
    t.description = "file " + std::to_string(i);
    t.instructions = "write file " + std::to_string(i);
    if (chain && i > 0) t.depends_on.push_back("t" + std::to_string(i - 1));
    plan.push_back(std::move(t));
  }
  return plan;
}

namespace {

void report(int fd, const std::string& line) {
  std::string l = line + "\n";  // one write per line: atomic on a pipe (< PIPE_BUF)
  ssize_t n = ::write(fd, l.data(), l.size());
  (void)n;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

}  // namespace

int child_main(const std::string& mode, int fd) {
  auto parts = split(mode, '|');
  if (parts[0] == "open" && parts.size() == 2) {
    // Try to open a store someone else holds; report the outcome.
    auto st = run_store::open(parts[1]);
    if (st) {
      report(fd, "ok");
      return 0;
    }
    report(fd, std::string{to_string(st.err().code)} + "\t" + st.err().reason);
    return 3;
  }
  if (parts[0] == "fill" && parts.size() == 2) {
    // Write file versions of 48 KiB (incompressible) until the store's disk is
    // full: "ack <path>" after each acknowledged one, "error <code>\t<reason>"
    // for the first failure, then three more attempts ("again <code>"), then
    // close the store normally (exit 0). An abort here is what must not happen.
    auto st = run_store::open(parts[1]);
    if (!st) {
      report(fd, "open " + st.err().describe());
      return 4;
    }
    auto run = (*st)->create_run("fill the disk", "{}");
    if (!run) {
      report(fd, "error " + std::string{to_string(run.err().code)} + "\t" + run.err().reason);
      return 0;
    }
    report(fd, "run " + *run);
    std::mt19937_64 rng{42};
    int failures = 0;
    for (int i = 0; i < 10000 && failures < 4; ++i) {
      std::string content(48 * 1024, '\0');
      for (auto& c : content) c = static_cast<char>(rng());
      auto path = "f" + std::to_string(i) + ".bin";
      auto h = (*st)->put_file_version(*run, path, content);
      if (h) {
        report(fd, "ack " + path + " " + *h);
      } else {
        report(fd, std::string{failures == 0 ? "error " : "again "} + to_string(h.err().code) + "\t" +
                       h.err().reason);
        ++failures;
      }
    }
    st->reset();
    report(fd, "closed");
    return 0;
  }
  if (parts[0] == "create" && parts.size() == 3) {
    // Create (open) a store, SIGKILLed by the store's own hook at creation step
    // parts[2] (CODEHIVE_STORE_CREATE_KILL_AT); "ok" when it got through.
    ::setenv("CODEHIVE_STORE_CREATE_KILL_AT", parts[2].c_str(), 1);
    auto st = run_store::open(parts[1]);
    if (!st) {
      report(fd, "error " + st.err().describe());
      return 4;
    }
    report(fd, "ok");
    return 0;
  }
  if (parts[0] == "crash" && parts.size() == 4) {
    // Run task lifecycles (assign, file version, done; synced), acknowledge
    // each transition through the pipe after transition() returned, and get
    // SIGKILLed part-way through by a thread.
    auto st = run_store::open(parts[1]);
    if (!st) {
      report(fd, "error " + st.err().describe());
      return 4;
    }
    const std::string run = parts[2];
    const int n = std::atoi(parts[3].c_str());
    std::atomic<int> acks{0};
    std::thread killer([&] {
      std::mt19937 rng{std::random_device{}()};
      while (acks.load() < n) std::this_thread::sleep_for(std::chrono::microseconds(50));
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
      ::kill(::getpid(), SIGKILL);
    });
    killer.detach();
    for (int i = 0; i < n; ++i) {
      std::string id = "t" + std::to_string(i);
      transition_info a;
      a.worker = "w" + std::to_string(i % 4);
      if (!(*st)->transition(run, id, task_state::assigned, a)) return 5;
      report(fd, id + " assigned");
      ++acks;
      auto hash = (*st)->put_file_version(run, "src/file" + std::to_string(i) + ".js",
                                          "content of " + id + "\n", from_task(id));
      if (!hash) return 5;
      if (!(*st)->transition(run, id, task_state::done, producing(*hash))) return 5;
      report(fd, id + " done");
      ++acks;
    }
    ::kill(::getpid(), SIGKILL);
    return 6;
  }
  report(fd, "unknown child mode " + mode);
  return 2;
}

store_options read_only() {
  store_options o;
  o.read_only = true;
  return o;
}

store_options no_sync() {
  store_options o;
  o.sync = false;
  return o;
}

store_options no_create() {
  store_options o;
  o.create_if_missing = false;
  return o;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

}  // namespace codehive::store::test
