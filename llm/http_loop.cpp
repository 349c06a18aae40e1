#include "llm/http_loop.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>

#include <spdlog/spdlog.h>

namespace codehive::llm {

namespace {

using clock_type = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

void global_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

error make_error(errc code, std::string message) {
  error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

}  // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
  auto key = lower(name);
  for (const auto& [k, v] : headers)
    if (k == key) return v;
  return std::nullopt;
}

std::string http_loop::endpoint_of(std::string_view url) {
  auto scheme_end = url.find("://");
  auto host_begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  auto host_end = url.find_first_of("/?#", host_begin);
  return std::string(url.substr(0, host_end));
}

struct transfer {
  http_request req;
  http_callback cb;
  std::string endpoint;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  http_response resp;
  clock_type::time_point started;
  bool aborted = false;
  bool too_large = false;
  bool got_body = false;
  clock_type::time_point last_byte;
  std::optional<error> expired;  ///< set when a streaming timeout ended it
  char errbuf[CURL_ERROR_SIZE] = {0};

  ~transfer() {
    if (headers != nullptr) curl_slist_free_all(headers);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

struct http_loop::impl {
  struct timer {
    clock_type::time_point at;
    std::uint64_t seq;
    std::function<void()> fn;
    bool operator>(const timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct endpoint_state {
    std::deque<std::unique_ptr<transfer>> queue;
    std::deque<std::unique_ptr<transfer>> background;  ///< started only while `queue` is empty
    int limit = 4;
    endpoint_stats st;
  };

  CURLM* multi = nullptr;
  std::thread thread;
  std::atomic<std::thread::id> loop_id{};

  mutable std::mutex mu;  // guards everything below
  bool stop_requested = false;
  bool stopped = false;  // thread has finished draining
  std::vector<std::unique_ptr<transfer>> incoming;
  std::vector<timer> new_timers;
  std::map<std::string, endpoint_state> endpoints;
  std::uint64_t timer_seq = 0;

  // Loop thread only.
  std::priority_queue<timer, std::vector<timer>, std::greater<>> timers;
  std::map<CURL*, std::unique_ptr<transfer>> running;

  impl() {
    global_init_once();
    multi = curl_multi_init();
    thread = std::thread([this] { run(); });
  }

  ~impl() {
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  void wake() {
    std::lock_guard lk{mu};
    if (!stopped && multi != nullptr) curl_multi_wakeup(multi);
  }

  static size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    auto len = size * n;
    // The cap is checked before appending: a runaway or hostile reply is cut
    // off here, with at most the cap held in memory.
    if (t->req.max_body_bytes > 0 && t->resp.body.size() + len > t->req.max_body_bytes) {
      t->too_large = true;
      return 0;
    }
    t->resp.body.append(data, len);
    t->last_byte = clock_type::now();
    if (!t->got_body)
      t->resp.first_byte = std::chrono::duration_cast<std::chrono::milliseconds>(t->last_byte - t->started);
    t->got_body = true;
    if (t->req.on_chunk) {
      long code = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
      if (code >= 200 && code < 300) {
        bool keep = true;
        try {
          keep = t->req.on_chunk(std::string_view(data, len));
        } catch (...) {
          keep = false;
        }
        if (!keep) {
          t->aborted = true;
          return 0;
        }
      }
    }
    return len;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    auto len = size * n;
    std::string_view line(data, len);
    if (line.starts_with("HTTP/")) {
      t->resp.headers.clear();  // a new (e.g. after 100 Continue) response
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      t->resp.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                   std::string(trim(line.substr(colon + 1))));
    }
    return len;
  }

  bool start(std::unique_ptr<transfer>& t) {
    CURL* e = curl_easy_init();
    if (e == nullptr) return false;
    t->easy = e;
    auto& r = t->req;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, r.connect_timeout.count())));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, r.timeout.count())));
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method == "POST") {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
      } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      }
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    for (const auto& [k, v] : r.headers) {
      auto line = k + ": " + v;
      t->headers = curl_slist_append(t->headers, line.c_str());
    }
    t->headers = curl_slist_append(t->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &impl::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &impl::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    t->started = clock_type::now();
    t->resp.sent_at = t->started;
    if (curl_multi_add_handle(multi, e) != CURLM_OK) return false;
    running.emplace(e, std::move(t));
    return true;
  }

  static void invoke(http_callback& cb, http_result r) {
    if (!cb) return;
    try {
      cb(std::move(r));
    } catch (const std::exception& ex) {
      spdlog::error("http_loop: callback threw: {}", ex.what());
    } catch (...) {
      spdlog::error("http_loop: callback threw");
    }
  }

  static void run_fn(std::function<void()>& fn) {
    try {
      fn();
    } catch (const std::exception& ex) {
      spdlog::error("http_loop: timer threw: {}", ex.what());
    } catch (...) {
      spdlog::error("http_loop: timer threw");
    }
  }

  // Map a finished transfer to its result.
  static http_result outcome(transfer& t, CURLcode code) {
    t.resp.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t.started);
    if (code == CURLE_OK) {
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.resp.status);
      return std::move(t.resp);
    }
    std::string detail = t.errbuf[0] != '\0' ? std::string(t.errbuf) : curl_easy_strerror(code);
    if (t.aborted) return make_error(errc::cancelled, "transfer aborted by the caller");
    if (t.too_large) {
      auto e = make_error(errc::truncated, "reply from " + t.endpoint + " is larger than the reply cap of " +
                                               std::to_string(t.req.max_body_bytes) +
                                               " bytes (max_reply_mib in the model's config); aborted while reading");
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.resp.status);
      e.http_status = static_cast<int>(t.resp.status);
      return e;
    }
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT: {
        long connect_us = 0;
        curl_off_t ct = 0;
        curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &ct);
        connect_us = static_cast<long>(ct);
        if (connect_us == 0)
          return make_error(errc::timeout, "connect to " + t.endpoint + " timed out after " +
                                               std::to_string(t.req.connect_timeout.count()) + " ms");
        return make_error(errc::timeout, "no complete answer from " + t.endpoint + " within " +
                                             std::to_string(t.req.timeout.count()) + " ms");
      }
      case CURLE_PARTIAL_FILE: {
        auto e = make_error(errc::truncated, "reply from " + t.endpoint + " cut off: " + detail);
        curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.resp.status);
        e.http_status = static_cast<int>(t.resp.status);
        return e;
      }
      default:
        return make_error(errc::unreachable, "cannot reach " + t.endpoint + ": " + detail);
    }
  }

  // Streaming timeouts: the first byte too late, or too long a pause.
  void expire_stalled() {
    auto now = clock_type::now();
    std::vector<std::pair<CURL*, error>> stalled;
    for (auto& [e, t] : running) {
      const auto& r = t->req;
      if (!t->got_body && r.first_byte_timeout.count() > 0 && now - t->started > r.first_byte_timeout) {
        stalled.emplace_back(e, make_error(errc::timeout, "no first token from " + t->endpoint + " within " +
                                                              std::to_string(r.first_byte_timeout.count()) + " ms"));
      } else if (t->got_body && r.idle_timeout.count() > 0 && now - t->last_byte > r.idle_timeout) {
        stalled.emplace_back(e, make_error(errc::timeout, "the stream from " + t->endpoint + " stalled for more than " +
                                                              std::to_string(r.idle_timeout.count()) + " ms"));
      }
    }
    for (auto& [e, err] : stalled) {
      running.at(e)->expired = std::move(err);
      finish(e, CURLE_OPERATION_TIMEDOUT);
    }
  }

  bool any_stream_timeouts() const {
    for (const auto& [e, t] : running)
      if (t->req.first_byte_timeout.count() > 0 || t->req.idle_timeout.count() > 0) return true;
    return false;
  }

  void finish(CURL* e, CURLcode code) {
    auto it = running.find(e);
    if (it == running.end()) return;
    auto t = std::move(it->second);
    running.erase(it);
    curl_multi_remove_handle(multi, e);
    auto r = t->expired ? http_result(std::move(*t->expired)) : outcome(*t, code);
    {
      std::lock_guard lk{mu};
      auto& ep = endpoints[t->endpoint];
      ep.st.in_flight--;
      ep.st.completed++;
    }
    auto cb = std::move(t->cb);
    t.reset();  // free the handle before the callback may submit more
    invoke(cb, std::move(r));
  }

  void fail_transfer(std::unique_ptr<transfer> t, error err) {
    auto cb = std::move(t->cb);
    t.reset();
    invoke(cb, std::move(err));
  }

  // Starts queued transfers while their endpoint has room.
  void start_ready() {
    std::vector<std::unique_ptr<transfer>> to_start;
    {
      std::lock_guard lk{mu};
      for (auto& [key, ep] : endpoints) {
        while ((!ep.queue.empty() || !ep.background.empty()) && ep.st.in_flight < ep.limit) {
          auto& q = ep.queue.empty() ? ep.background : ep.queue;
          to_start.push_back(std::move(q.front()));
          q.pop_front();
          ep.st.queued--;
          ep.st.in_flight++;
          ep.st.started++;
          ep.st.max_in_flight_seen = std::max(ep.st.max_in_flight_seen, ep.st.in_flight);
        }
      }
    }
    for (auto& t : to_start) {
      auto key = t->endpoint;
      if (!start(t)) {
        {
          std::lock_guard lk{mu};
          auto& ep = endpoints[key];
          ep.st.in_flight--;
          ep.st.completed++;
        }
        if (t) fail_transfer(std::move(t), make_error(errc::unreachable, "cannot start a transfer to " + key));
      }
    }
  }

  void run() {
    loop_id = std::this_thread::get_id();
    for (;;) {
      bool stop = false;
      {
        std::lock_guard lk{mu};
        stop = stop_requested;
        for (auto& t : incoming) {
          auto& ep = endpoints[t->endpoint];
          ep.limit = std::max(1, t->req.max_in_flight);
          (t->req.background ? ep.background : ep.queue).push_back(std::move(t));
          ep.st.queued++;
        }
        incoming.clear();
        for (auto& tm : new_timers) timers.push(std::move(tm));
        new_timers.clear();
      }
      if (stop) break;
      // Due timers.
      auto now = clock_type::now();
      while (!timers.empty() && timers.top().at <= now) {
        auto fn = std::move(const_cast<timer&>(timers.top()).fn);
        timers.pop();
        run_fn(fn);
      }
      start_ready();
      int still_running = 0;
      curl_multi_perform(multi, &still_running);
      int left = 0;
      bool finished_any = false;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE) {
          finish(msg->easy_handle, msg->data.result);
          finished_any = true;
        }
      }
      expire_stalled();
      if (finished_any) continue;  // start what waited, pick up new submissions
      int wait_ms = any_stream_timeouts() ? 250 : 1000;
      {
        std::lock_guard lk{mu};
        if (!incoming.empty() || !new_timers.empty() || stop_requested) wait_ms = 0;
      }
      if (!timers.empty()) {
        auto d = std::chrono::duration_cast<std::chrono::milliseconds>(timers.top().at - clock_type::now()).count();
        wait_ms = static_cast<int>(std::clamp<int64_t>(d, 0, wait_ms));
      }
      if (wait_ms > 0) curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
    }
    drain();
  }

  void drain() {
    // Nothing new is accepted now (submit/schedule run inline once stop_requested).
    for (auto& [e, t] : running) curl_multi_remove_handle(multi, e);
    std::vector<std::unique_ptr<transfer>> victims;
    for (auto& [e, t] : running) victims.push_back(std::move(t));
    running.clear();
    {
      std::lock_guard lk{mu};
      for (auto& [key, ep] : endpoints) {
        for (auto& t : ep.queue) victims.push_back(std::move(t));
        for (auto& t : ep.background) victims.push_back(std::move(t));
        ep.queue.clear();
        ep.background.clear();
        ep.st.queued = 0;
        ep.st.in_flight = 0;
      }
      for (auto& t : incoming) victims.push_back(std::move(t));
      incoming.clear();
      for (auto& tm : new_timers) timers.push(std::move(tm));
      new_timers.clear();
    }
    for (auto& t : victims) fail_transfer(std::move(t), make_error(errc::cancelled, "the HTTP loop shut down"));
    while (!timers.empty()) {
      auto fn = std::move(const_cast<timer&>(timers.top()).fn);
      timers.pop();
      run_fn(fn);
    }
    {
      std::lock_guard lk{mu};
      stopped = true;
    }
    // Close idle keep-alive connections now rather than at destruction.
    curl_multi_cleanup(multi);
    multi = nullptr;
  }
};

http_loop::http_loop() : impl_(std::make_unique<impl>()) {}

http_loop::~http_loop() {
  shutdown();
  if (impl_->thread.joinable()) impl_->thread.detach();  // destroyed on its own thread
}

http_loop& http_loop::instance() {
  static http_loop loop;
  return loop;
}

void http_loop::submit(http_request req, http_callback cb) {
  auto t = std::make_unique<transfer>();
  t->endpoint = req.endpoint.empty() ? endpoint_of(req.url) : req.endpoint;
  t->req = std::move(req);
  t->cb = std::move(cb);
  {
    std::unique_lock lk{impl_->mu};
    if (!impl_->stop_requested) {
      impl_->incoming.push_back(std::move(t));
      lk.unlock();
      impl_->wake();
      return;
    }
  }
  auto callback = std::move(t->cb);
  impl::invoke(callback, make_error(errc::cancelled, "the HTTP loop shut down"));
}

void http_loop::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  {
    std::unique_lock lk{impl_->mu};
    if (!impl_->stop_requested) {
      impl_->new_timers.push_back({clock_type::now() + delay, impl_->timer_seq++, std::move(fn)});
      lk.unlock();
      impl_->wake();
      return;
    }
  }
  impl::run_fn(fn);
}

void http_loop::shutdown() {
  {
    std::lock_guard lk{impl_->mu};
    impl_->stop_requested = true;
  }
  impl_->wake();
  if (on_loop_thread()) return;
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool http_loop::on_loop_thread() const noexcept {
  return impl_->loop_id.load() == std::this_thread::get_id();
}

http_loop::endpoint_stats http_loop::stats(const std::string& endpoint) const {
  std::lock_guard lk{impl_->mu};
  auto it = impl_->endpoints.find(endpoint);
  if (it == impl_->endpoints.end()) return {};
  return it->second.st;
}

}  // namespace codehive::llm
