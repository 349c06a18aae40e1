// The coordinator's gate (nodes/basp_gate.*) and the silence limit it judges
// nodes by. The frame check and the limit are driven byte by byte and with
// made-up clocks; the gate itself relays real loopback sockets to a plain TCP
// listener standing in for CAF's middleman.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "nodes/basp_gate.hpp"
#include "nodes/silence_limit.hpp"

using namespace codehive;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

namespace {

/// A BASP header: operation, 3 bytes (padding, flags), big-endian payload
/// length, then 24 bytes of operation data and actor ids.
std::string header(std::uint8_t operation, std::uint32_t payload) {
  std::string h(basp_frame_check::header_size, '\0');
  h[0] = static_cast<char>(operation);
  h[4] = static_cast<char>(payload >> 24);
  h[5] = static_cast<char>(payload >> 16);
  h[6] = static_cast<char>(payload >> 8);
  h[7] = static_cast<char>(payload);
  return h;
}

std::string frame(std::uint8_t operation, const std::string& payload) {
  return header(operation, static_cast<std::uint32_t>(payload.size())) + payload;
}

constexpr std::uint8_t handshake_op = 0x01;
constexpr std::uint8_t direct_message_op = 0x02;
constexpr std::uint8_t heartbeat_op = 0x06;

// -- silence_limit --------------------------------------------------------------------

TEST(SilenceLimit, StartsAtTheConfiguredTimeout) {
  auto t0 = silence_limit::clock::time_point{};
  silence_limit s{ms{5000}, t0};
  EXPECT_EQ(s.limit(), ms{5000});
  EXPECT_FALSE(s.exceeded(t0 + ms{5000}));
  EXPECT_TRUE(s.exceeded(t0 + ms{5001}));
}

TEST(SilenceLimit, ANodeThatShowedLongGapsGetsThreeTimesItsLongestUpToTenTimesTheTimeout) {
  auto t = silence_limit::clock::time_point{};
  silence_limit s{ms{1000}, t};
  t += ms{300};
  s.heard(t);
  EXPECT_EQ(s.limit(), ms{1000}) << "3 x 300 ms is under the configured timeout";
  t += ms{2000};  // a loaded machine: a heartbeat 2 s late, and still alive
  s.heard(t);
  EXPECT_EQ(s.limit(), ms{6000});
  EXPECT_FALSE(s.exceeded(t + ms{5999}));
  EXPECT_TRUE(s.exceeded(t + ms{6001}));
  t += ms{8000};
  s.heard(t);
  EXPECT_EQ(s.limit(), ms{10000}) << "never more than 10 x the configured timeout";
}

TEST(SilenceLimit, OldLongGapsAreForgottenAfterThirtyTwoNotableOnes) {
  auto t = silence_limit::clock::time_point{};
  silence_limit s{ms{1000}, t};
  t += ms{2000};
  s.heard(t);
  ASSERT_EQ(s.limit(), ms{6000});
  for (std::size_t i = 0; i < silence_limit::remembered; ++i) {
    t += ms{200};
    s.heard(t);
  }
  EXPECT_EQ(s.limit(), ms{1000});
  // Traffic (gaps under 100 ms) neither counts nor pushes the long gap out.
  t += ms{2000};
  s.heard(t);
  for (int i = 0; i < 1000; ++i) {
    t += ms{1};
    s.heard(t);
  }
  EXPECT_EQ(s.limit(), ms{6000});
}

// -- basp_frame_check -----------------------------------------------------------------

TEST(BaspFrameCheck, AWellFormedStreamPassesInAnyChunking) {
  gate_settings g;
  std::string stream = frame(handshake_op, std::string(300, 'h')) + frame(heartbeat_op, "")
                       + frame(direct_message_op, std::string(70000, 'm')) + frame(heartbeat_op, "");
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{32}, std::size_t{4096}, stream.size()}) {
    basp_frame_check c{g};
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      auto broken = c.feed(stream.data() + at, std::min(chunk, stream.size() - at));
      ASSERT_FALSE(broken.has_value()) << "chunk " << chunk << " at " << at << ": " << *broken;
    }
    EXPECT_TRUE(c.handshake_done()) << "chunk " << chunk;
  }
}

TEST(BaspFrameCheck, AHandshakeAnnouncingFourGibibytesIsRefusedFromItsHeaderAlone) {
  gate_settings g;
  basp_frame_check c{g};
  auto h = header(handshake_op, 0xfffffff0u);
  auto broken = c.feed(h.data(), h.size());
  ASSERT_TRUE(broken.has_value());
  EXPECT_NE(broken->find("4294967280 bytes"), std::string::npos) << *broken;
  EXPECT_NE(broken->find("limit 65536"), std::string::npos) << *broken;
}

TEST(BaspFrameCheck, TheFirstFrameMustBeAClientHandshake) {
  gate_settings g;
  basp_frame_check c{g};
  auto f = frame(direct_message_op, "x");
  auto broken = c.feed(f.data(), f.size());
  ASSERT_TRUE(broken.has_value());
  EXPECT_NE(broken->find("not a BASP client handshake"), std::string::npos) << *broken;
}

TEST(BaspFrameCheck, ALaterFrameOverTheFrameLimitIsRefusedAndTheLimitNamed) {
  gate_settings g;
  g.frame_bytes = 1 << 20;
  basp_frame_check c{g};
  auto ok = frame(handshake_op, "hello") + header(direct_message_op, 1 << 20);
  ASSERT_FALSE(c.feed(ok.data(), ok.size()).has_value()) << "exactly the limit passes";
  auto rest = std::string(1 << 20, 'p');
  ASSERT_FALSE(c.feed(rest.data(), rest.size()).has_value());
  auto big = header(direct_message_op, (1 << 20) + 1);
  auto broken = c.feed(big.data(), big.size());
  ASSERT_TRUE(broken.has_value());
  EXPECT_NE(broken->find("cluster.max_frame_bytes"), std::string::npos) << *broken;
  auto unknown = basp_frame_check{g};
  auto f = frame(handshake_op, "") + header(0x07, 0);
  auto why = unknown.feed(f.data(), f.size());
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("unknown BASP operation"), std::string::npos) << *why;
}

// -- the gate over real sockets -------------------------------------------------------

/// Stands in for CAF's middleman: accepts one connection at a time, keeps
/// what it receives, and can send.
class upstream {
 public:
  upstream() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 8);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread{[this] { serve(); }};
  }
  ~upstream() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    if (conn_ >= 0)
      ::close(conn_);
  }
  std::uint16_t port() const { return port_; }
  std::string received() {
    std::lock_guard<std::mutex> g{m_};
    return got_;
  }
  bool ended() const { return ended_; }
  bool accepted() const { return conn_ >= 0; }
  void send_text(const std::string& s) { ::send(conn_.load(), s.data(), s.size(), MSG_NOSIGNAL); }

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0)
      return;
    conn_ = c;
    char buf[65536];
    while (!stop_) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      auto n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) {
        ended_ = true;
        return;
      }
      std::lock_guard<std::mutex> g{m_};
      got_.append(buf, static_cast<std::size_t>(n));
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> conn_{-1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};
  std::mutex m_;
  std::string got_;
  std::thread thread_;
};

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Waits (up to `limit`, generous: a loaded machine) until `pred` holds.
template <class Pred>
bool eventually(Pred pred, ms limit = ms{30000}) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred())
      return true;
    std::this_thread::sleep_for(ms{10});
  }
  return pred();
}

/// The gate has closed our connection: reads give end of stream or reset.
bool closed_by_peer(int fd, ms limit = ms{30000}) {
  return eventually(
    [fd] {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0)
        return false;
      char c;
      return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
    },
    limit);
}

std::unique_ptr<basp_gate> gate_to(const upstream& up, const gate_settings& g) {
  std::string error;
  auto gate = basp_gate::start(host_port{"127.0.0.1", 0}, up.port(), g, error);
  EXPECT_TRUE(gate) << error;
  return gate;
}

/// An upstream, a gate in front of it and one connection to the gate.
struct gated_connection {
  upstream up;
  std::unique_ptr<basp_gate> gate;
  int fd = -1;

  /// Starts the gate with `g` and connects to it; call through ASSERT_NO_FATAL_FAILURE.
  void open(const gate_settings& g) {
    gate = gate_to(up, g);
    ASSERT_TRUE(gate);
    fd = connect_to(gate->port());
    ASSERT_GE(fd, 0);
  }
};

TEST(BaspGate, RelaysBothWaysByteForByte) {
  gate_settings g;
  gated_connection t;
  ASSERT_NO_FATAL_FAILURE(t.open(g));
  auto& [up, gate, fd] = t;
  std::string out = frame(handshake_op, std::string(1000, 'a'))
                    + frame(direct_message_op, std::string(200000, 'b')) + frame(heartbeat_op, "");
  ASSERT_EQ(::send(fd, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
  ASSERT_TRUE(eventually([&] { return up.received().size() == out.size(); }))
    << "upstream got " << up.received().size() << " of " << out.size() << " bytes";
  EXPECT_EQ(up.received(), out);
  up.send_text("server says hi");
  std::string back;
  ASSERT_TRUE(eventually([&] {
    char buf[64];
    auto n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0)
      back.append(buf, static_cast<std::size_t>(n));
    return back.size() >= 14;
  }));
  EXPECT_EQ(back, "server says hi");
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return up.ended(); })) << "the end of the peer's stream was passed on";
}

TEST(BaspGate, AHandshakeAnnouncingFourGibibytesNeverReachesTheMiddleman) {
  gate_settings g;
  gated_connection t;
  ASSERT_NO_FATAL_FAILURE(t.open(g));
  auto& [up, gate, fd] = t;
  auto h = header(handshake_op, 0xfffffff0u);
  ASSERT_EQ(::send(fd, h.data(), h.size(), MSG_NOSIGNAL), static_cast<ssize_t>(h.size()));
  EXPECT_TRUE(closed_by_peer(fd)) << "the gate did not close the connection";
  EXPECT_TRUE(eventually([&] { return up.ended(); })) << "the middleman's side was not closed";
  EXPECT_EQ(up.received(), "") << "the header was passed on";
  ::close(fd);
}

TEST(BaspGate, AConnectionThatSaysNothingIsClosedAtTheHandshakeDeadline) {
  gate_settings g;
  g.handshake_deadline = ms{200};
  gated_connection t;
  ASSERT_NO_FATAL_FAILURE(t.open(g));
  auto& [up, gate, fd] = t;
  EXPECT_TRUE(closed_by_peer(fd)) << "an idle unauthenticated connection stayed open";
  ::close(fd);
}

TEST(BaspGate, ANodeSilentPastItsLimitIsClosedOneThatSpeaksIsNot) {
  gate_settings g;
  g.silence = ms{5000};  // generous: the test's own threads may be starved
  gated_connection t;
  ASSERT_NO_FATAL_FAILURE(t.open(g));
  auto& [up, gate, fd] = t;
  auto hs = frame(handshake_op, "node");
  ASSERT_GT(::send(fd, hs.data(), hs.size(), MSG_NOSIGNAL), 0);
  auto beat = frame(heartbeat_op, "");
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(ms{100});
    ASSERT_GT(::send(fd, beat.data(), beat.size(), MSG_NOSIGNAL), 0)
      << "a node sending heartbeats was cut off";
  }
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "a node sending heartbeats was closed";
  // Now silent: closed once 5 s (or the longer limit its gaps earned) pass.
  EXPECT_TRUE(closed_by_peer(fd, ms{60000})) << "a silent node was never taken for dead";
  EXPECT_TRUE(eventually([&] { return up.ended(); }));
  ::close(fd);
}

}  // namespace
