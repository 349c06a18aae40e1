#include "nodes/progress_line.hpp"

namespace codehive {

namespace {

std::string tokens_text(std::int64_t n) {
  char buf[32];
  if (n >= 10000)
    std::snprintf(buf, sizeof buf, "%.1fk", n / 1000.0);
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

bool milestone(msg::progress_kind kind) {
  using enum msg::progress_kind;
  return kind == plan || kind == task_done || kind == task_failed || kind == task_retry
         || kind == validate || kind == review || kind == fix_done || kind == fix_failed
         || kind == finished;
}

}  // namespace

std::string progress_line::format(const msg::progress_event& ev) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "tasks %d/%d | coders busy %d | round %d | tokens %s | %.1f s",
                ev.tasks_done, ev.tasks_total, ev.coders_busy, ev.round,
                tokens_text(ev.tokens).c_str(), ev.elapsed_ms / 1000.0);
  std::string out = buf;
  if (ev.coder_tokens_per_s > 0) {
    std::snprintf(buf, sizeof buf, " | %.0f tok/s per coder", ev.coder_tokens_per_s);
    out += buf;
  }
  std::string what{to_string(ev.kind)};
  if (!ev.path.empty())
    what += " " + ev.path;
  else if (!ev.detail.empty())
    what += ": " + ev.detail;
  return out + " | " + what;
}

void progress_line::on_event(const msg::progress_event& ev) {
  std::lock_guard<std::mutex> guard{mtx_};
  last_event_ = ev;
  last_at_ = std::chrono::steady_clock::now();
  auto text = format(ev);
  if (terminal_) {
    draw(text);
  } else if (milestone(ev.kind)) {
    std::fprintf(out_, "progress: %s\n", text.c_str());
    std::fflush(out_);
  }
}

void progress_line::draw(std::string text) {
  if (text.size() > 150)
    text = text.substr(0, 147) + "...";
  std::fprintf(out_, "\r\033[K%s", text.c_str());
  std::fflush(out_);
  shown_ = true;
  last_ = text;
}

void progress_line::refresh() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!terminal_ || !shown_ || last_event_.kind == msg::progress_kind::finished)
    return;
  auto ev = last_event_;
  ev.elapsed_ms += std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - last_at_)
                     .count();
  draw(format(ev));
}

void progress_line::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (terminal_ && shown_) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
    shown_ = false;
  }
}

void progress_line::print(const std::string& line) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (terminal_ && shown_)
    std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "%s\n", line.c_str());
  if (terminal_ && shown_)
    std::fprintf(out_, "%s", last_.c_str());
  std::fflush(out_);
}

}  // namespace codehive
