// The coordinator's front door. CAF 0.17.6's BASP believes the payload
// length a peer announces before any authentication: one unauthenticated
// connection announcing a 4 GiB handshake made the coordinator allocate
// 1.6 GB and kept workers from joining (issue 16). CAF's middleman therefore
// listens on loopback only, and this gate listens on the public address and
// relays each connection to it, after checking:
//
// - the first frame is a BASP client handshake with a small payload, and it
//   arrives within a deadline;
// - no later frame announces more than the configured frame limit;
// - the peer is not silent for longer than its silence_limit (heartbeats
//   are seen here, on a thread of their own, not behind a busy mailbox).
//
// A connection that breaks a rule is closed on both sides, so CAF sees an
// ordinary disconnect (a worker lost, its work queued again) and never reads
// the oversized frame. Under TLS the bytes are opaque: only the deadline
// for the first bytes and the silence limit apply (TLS refuses a peer
// without the cluster's certificate before BASP sees a byte).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nodes/cluster.hpp"

namespace codehive {

struct gate_settings {
  std::uint32_t handshake_bytes = 64 * 1024;  ///< payload limit of the first frame
  std::uint32_t frame_bytes = 64u << 20;      ///< payload limit of every later frame
  std::chrono::milliseconds handshake_deadline{10000};
  std::chrono::milliseconds silence{5000};  ///< base of silence_limit; 0 = never
  bool inspect_frames = true;               ///< false under TLS
};

/// Follows a client's byte stream frame by frame (32-byte BASP headers,
/// big-endian payload length at offset 4) without keeping the payloads.
class basp_frame_check {
 public:
  static constexpr std::size_t header_size = 32;
  static constexpr std::uint8_t client_handshake = 0x01;
  static constexpr std::uint8_t last_operation = 0x06;  ///< heartbeat

  explicit basp_frame_check(const gate_settings& s) : limits_(s) {}

  /// Takes the next bytes of the stream; the broken rule, or nullopt.
  std::optional<std::string> feed(const char* data, std::size_t size);

  /// The client handshake has arrived whole.
  bool handshake_done() const { return handshake_done_; }

 private:
  std::optional<std::string> header_complete();

  const gate_settings& limits_;
  unsigned char header_[header_size] = {};
  std::size_t have_ = 0;           ///< header bytes collected
  std::uint64_t payload_left_ = 0;  ///< payload bytes still to pass
  bool in_payload_ = false;
  bool handshake_done_ = false;
};

class basp_gate {
 public:
  /// Listens on `where` (port 0: any free one) and relays every connection
  /// to 127.0.0.1:`upstream`. nullptr with `error` when it cannot listen.
  static std::unique_ptr<basp_gate> start(const host_port& where, std::uint16_t upstream,
                                          const gate_settings& settings, std::string& error);

  ~basp_gate();
  basp_gate(const basp_gate&) = delete;
  basp_gate& operator=(const basp_gate&) = delete;

  /// The port it listens on.
  std::uint16_t port() const;

  struct impl;

 private:
  explicit basp_gate(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// The gate's settings for a coordinator: frame inspection unless TLS, the
/// silence base from connection_timeout_ms when heartbeats are on.
gate_settings gate_settings_for(const cluster_settings& s, bool tls);

}  // namespace codehive
