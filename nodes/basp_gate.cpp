#include "nodes/basp_gate.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "nodes/silence_limit.hpp"

namespace codehive {

// -- frames ------------------------------------------------------------------

std::optional<std::string> basp_frame_check::feed(const char* data, std::size_t size) {
  while (size > 0) {
    if (in_payload_) {
      auto take = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, size));
      payload_left_ -= take;
      data += take;
      size -= take;
      if (payload_left_ == 0) {
        in_payload_ = false;
        handshake_done_ = true;
      }
      continue;
    }
    auto take = std::min(header_size - have_, size);
    std::memcpy(header_ + have_, data, take);
    have_ += take;
    data += take;
    size -= take;
    if (have_ == header_size) {
      have_ = 0;
      if (auto broken = header_complete())
        return broken;
    }
  }
  return std::nullopt;
}

std::optional<std::string> basp_frame_check::header_complete() {
  std::uint8_t operation = header_[0];
  std::uint32_t length = (std::uint32_t{header_[4]} << 24) | (std::uint32_t{header_[5]} << 16)
                         | (std::uint32_t{header_[6]} << 8) | std::uint32_t{header_[7]};
  if (!handshake_done_) {
    if (operation != client_handshake)
      return "the first frame is not a BASP client handshake (operation "
             + std::to_string(operation) + ")";
    if (length > limits_.handshake_bytes)
      return "its handshake announces " + std::to_string(length) + " bytes (limit "
             + std::to_string(limits_.handshake_bytes) + ")";
  } else {
    if (operation > last_operation)
      return "a frame has an unknown BASP operation (" + std::to_string(operation) + ")";
    if (length > limits_.frame_bytes)
      return "a frame announces " + std::to_string(length)
             + " bytes (limit cluster.max_frame_bytes = " + std::to_string(limits_.frame_bytes)
             + ")";
  }
  payload_left_ = length;
  in_payload_ = length > 0;
  if (!in_payload_)
    handshake_done_ = true;
  return std::nullopt;
}

// -- the relay ---------------------------------------------------------------

namespace {

using clock = std::chrono::steady_clock;

/// Stop reading a side while this much waits to be written to the other.
constexpr std::size_t buffer_cap = 8u << 20;
constexpr std::size_t read_chunk = 64 * 1024;

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

std::string address_text(const sockaddr_storage& a, socklen_t len) {
  char host[NI_MAXHOST] = {0};
  char port[NI_MAXSERV] = {0};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV)
      != 0)
    return "?";
  return std::string{host} + ":" + port;
}

/// One relayed connection: `peer` is the node outside, `caf` the middleman's
/// loopback side.
struct link {
  int peer = -1;
  int caf = -1;
  std::string peer_address;
  std::string to_caf;
  std::string to_peer;
  basp_frame_check frames;
  silence_limit quiet;
  clock::time_point opened;
  bool peer_eof = false;
  bool caf_eof = false;
  bool any_byte = false;

  link(const gate_settings& s, clock::time_point now)
      : frames(s), quiet(s.silence.count() > 0 ? s.silence : std::chrono::milliseconds{1}, now),
        opened(now) {}
  ~link() {
    if (peer >= 0)
      ::close(peer);
    if (caf >= 0)
      ::close(caf);
  }
};

/// Writes what it can of `out` to `fd`; false on a broken connection.
bool flush(int fd, std::string& out) {
  while (!out.empty()) {
    auto n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

enum class read_result { more, eof, broken };

/// Reads what is there from `fd` into `out` (at most one chunk).
read_result drain(int fd, std::string& out, std::size_t& got) {
  char buf[read_chunk];
  got = 0;
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      got = static_cast<std::size_t>(n);
      return read_result::more;
    }
    if (n == 0)
      return read_result::eof;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return read_result::more;
    return read_result::broken;
  }
}

}  // namespace

struct basp_gate::impl {
  gate_settings settings;
  std::uint16_t upstream = 0;
  std::uint16_t bound = 0;
  int listener = -1;
  int wake = -1;
  std::atomic<bool> stop{false};
  std::list<link> links;
  std::thread thread;

  ~impl() {
    if (listener >= 0)
      ::close(listener);
    if (wake >= 0)
      ::close(wake);
  }

  void accept_all(clock::time_point now) {
    for (;;) {
      sockaddr_storage from{};
      socklen_t len = sizeof(from);
      int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
      if (fd < 0)
        return;  // EAGAIN: no more waiting; anything else: try at the next poll
      auto& l = links.emplace_back(settings, now);
      l.peer = fd;
      l.peer_address = address_text(from, len);
      l.caf = connect_upstream();
      if (l.caf < 0) {
        spdlog::error("cluster: cannot reach the local middleman for {}: {}", l.peer_address,
                      std::strerror(errno));
        links.pop_back();
        continue;
      }
      set_nonblocking(l.peer);
      set_nonblocking(l.caf);
    }
  }

  int connect_upstream() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(upstream);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Loopback to a listening socket: completes at once.
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    return fd;
  }

  /// The rule `l` breaks at `now` (deadline or silence), or "".
  std::string overdue(const link& l, bool peer_readable, clock::time_point now) const {
    bool opening = settings.inspect_frames ? !l.frames.handshake_done() : !l.any_byte;
    if (opening && now - l.opened > settings.handshake_deadline)
      return "no handshake within " + std::to_string(settings.handshake_deadline.count()) + " ms";
    if (settings.silence.count() > 0 && !peer_readable && !opening && l.quiet.exceeded(now)) {
      auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - l.quiet.last_heard());
      return "silent for " + std::to_string(silent.count()) + " ms (limit "
             + std::to_string(l.quiet.limit().count()) + " ms): taken for dead";
    }
    return {};
  }

  /// Moves bytes for one link; the reason to close it, or "".
  std::string pump(link& l, short peer_events, short caf_events, clock::time_point now) {
    if (peer_events & (POLLIN | POLLHUP | POLLERR)) {
      std::size_t before = l.to_caf.size();
      std::size_t got = 0;
      auto r = drain(l.peer, l.to_caf, got);
      if (r == read_result::broken)
        return "connection broken";
      if (r == read_result::eof)
        l.peer_eof = true;
      if (got > 0) {
        l.any_byte = true;
        l.quiet.heard(now);
        if (settings.inspect_frames)
          if (auto broken = l.frames.feed(l.to_caf.data() + before, got))
            return *broken;
      }
    }
    if (caf_events & (POLLIN | POLLHUP | POLLERR)) {
      std::size_t got = 0;
      auto r = drain(l.caf, l.to_peer, got);
      if (r == read_result::broken)
        return "closed";
      if (r == read_result::eof)
        l.caf_eof = true;
    }
    if (!flush(l.caf, l.to_caf) || !flush(l.peer, l.to_peer))
      return "closed";
    // A side that ended: pass the end on once its bytes are through.
    if (l.peer_eof && l.to_caf.empty())
      ::shutdown(l.caf, SHUT_WR);
    if (l.caf_eof && l.to_peer.empty())
      ::shutdown(l.peer, SHUT_WR);
    if (l.peer_eof && l.caf_eof)
      return "closed";
    return {};
  }

  void run() {
    std::vector<pollfd> fds;
    std::vector<link*> order;
    while (!stop.load()) {
      fds.clear();
      order.clear();
      fds.push_back({wake, POLLIN, 0});
      fds.push_back({listener, POLLIN, 0});
      for (auto& l : links) {
        short peer_ev = (!l.peer_eof && l.to_caf.size() < buffer_cap ? POLLIN : 0)
                        | (l.to_peer.empty() ? 0 : POLLOUT);
        short caf_ev = (!l.caf_eof && l.to_peer.size() < buffer_cap ? POLLIN : 0)
                       | (l.to_caf.empty() ? 0 : POLLOUT);
        fds.push_back({l.peer, peer_ev, 0});
        fds.push_back({l.caf, caf_ev, 0});
        order.push_back(&l);
      }
      // Wakes at least 5 times a second to check deadlines and silences.
      if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR)
        break;
      auto now = clock::now();
      if (fds[1].revents & POLLIN)
        accept_all(now);
      std::size_t i = 2;
      for (auto* l : order) {
        auto peer_ev = fds[i].revents;
        auto caf_ev = fds[i + 1].revents;
        i += 2;
        // Silence counts only when the peer's side was asked for bytes and
        // had none (a full buffer toward CAF is not the peer's silence).
        bool peer_readable = (peer_ev & POLLIN) != 0 || (fds[i - 2].events & POLLIN) == 0;
        auto why = pump(*l, peer_ev, caf_ev, now);
        if (why.empty())
          why = overdue(*l, peer_readable, now);
        if (!why.empty())
          close_link(*l, why);
      }
      links.remove_if([](const link& l) { return l.peer < 0; });
    }
  }

  void close_link(link& l, const std::string& why) {
    if (why != "closed")
      spdlog::warn("cluster: connection from {} closed by the gate: {}", l.peer_address, why);
    ::close(l.peer);
    ::close(l.caf);
    l.peer = -1;
    l.caf = -1;
  }
};

std::unique_ptr<basp_gate> basp_gate::start(const host_port& where, std::uint16_t upstream,
                                            const gate_settings& settings, std::string& error) {
  auto p = std::make_unique<impl>();
  p->settings = settings;
  p->upstream = upstream;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto port = std::to_string(where.port);
  int rc = ::getaddrinfo(where.host.empty() ? nullptr : where.host.c_str(), port.c_str(), &hints,
                         &found);
  if (rc != 0) {
    error = std::string{"cannot resolve "} + where.host + ": " + ::gai_strerror(rc);
    return nullptr;
  }
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      p->listener = fd;
      break;
    }
    error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (p->listener < 0) {
    if (error.empty())
      error = "no address to listen on";
    return nullptr;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(p->listener, reinterpret_cast<sockaddr*>(&bound), &len);
  p->bound = ntohs(bound.ss_family == AF_INET6
                     ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  p->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p->wake < 0) {
    error = std::strerror(errno);
    return nullptr;
  }
  auto* raw = p.get();
  p->thread = std::thread{[raw] { raw->run(); }};
  return std::unique_ptr<basp_gate>{new basp_gate{std::move(p)}};
}

basp_gate::basp_gate(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

basp_gate::~basp_gate() {
  impl_->stop.store(true);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(impl_->wake, &one, sizeof(one));
  if (impl_->thread.joinable())
    impl_->thread.join();
}

std::uint16_t basp_gate::port() const {
  return impl_->bound;
}

gate_settings gate_settings_for(const cluster_settings& s, bool tls) {
  gate_settings g;
  g.inspect_frames = !tls;
  g.frame_bytes = s.max_frame_bytes;
  g.silence = std::chrono::milliseconds{s.heartbeat_interval_ms > 0 ? s.connection_timeout_ms : 0};
  return g;
}

}  // namespace codehive
