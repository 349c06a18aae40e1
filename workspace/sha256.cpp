// SHA-256 through OpenSSL's EVP interface (libcrypto is linked anyway, for the
// cluster's TLS): one implementation, vetted and accelerated (SHA-NI/AVX2 where
// the CPU has them), instead of a hand-written one.
#include "workspace/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace codehive::ws {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // EVP_Digest only fails on allocation failure or an unusable provider;
  // a hash that silently came out empty would address every blob alike.
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1 || size != 32)
    throw std::runtime_error("OpenSSL's SHA-256 failed");
  static const char* hex = "0123456789abcdef";
  std::string out(2 * size, '0');
  for (unsigned int i = 0; i < size; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  return out;
}

}  // namespace codehive::ws
