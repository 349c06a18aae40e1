// Shows a run's progress: on a terminal one line updated in place (tasks
// done/total, coders busy, tokens, elapsed); otherwise one plain line per
// milestone. Thread-safe (the progress actor and main both print).
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "messages/messages.hpp"

namespace codehive {

class progress_line {
 public:
  progress_line(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}

  void on_event(const msg::progress_event& ev);
  /// Redraws the terminal line with the elapsed time moved on.
  void refresh();
  /// Clears the updating line so normal output can follow.
  void clear();
  /// Prints a line of text above the progress line.
  void print(const std::string& line);

  bool terminal() const noexcept { return terminal_; }

  static std::string format(const msg::progress_event& ev);

 private:
  void draw(std::string text);  // with mtx_ held
  std::mutex mtx_;
  std::FILE* out_;
  bool terminal_;
  bool shown_ = false;
  std::string last_;
  msg::progress_event last_event_;
  std::chrono::steady_clock::time_point last_at_;
};

}  // namespace codehive
