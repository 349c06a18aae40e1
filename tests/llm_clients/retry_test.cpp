#include "llm/retry.hpp"

#include <gtest/gtest.h>

using namespace codehive::llm;
using std::chrono::milliseconds;

TEST(Retry, CeilingDoublesUpToTheCap) {
  EXPECT_EQ(backoff_ceiling(0, milliseconds{250}, milliseconds{8000}), milliseconds{250});
  EXPECT_EQ(backoff_ceiling(1, milliseconds{250}, milliseconds{8000}), milliseconds{500});
  EXPECT_EQ(backoff_ceiling(3, milliseconds{250}, milliseconds{8000}), milliseconds{2000});
  EXPECT_EQ(backoff_ceiling(6, milliseconds{250}, milliseconds{8000}), milliseconds{8000});
  EXPECT_EQ(backoff_ceiling(60, milliseconds{250}, milliseconds{8000}), milliseconds{8000});
}

TEST(Retry, FullJitterSpansZeroToCeiling) {
  EXPECT_EQ(full_jitter(2, milliseconds{100}, milliseconds{8000}, 0.0), milliseconds{0});
  EXPECT_EQ(full_jitter(2, milliseconds{100}, milliseconds{8000}, 0.5), milliseconds{200});
  EXPECT_LE(full_jitter(2, milliseconds{100}, milliseconds{8000}, 0.9999), milliseconds{400});
  for (int i = 0; i < 200; ++i) {
    double u = unit_random();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Retry, OnlyTransportFailures429And5xxAreRetried) {
  endpoint_config cfg;
  cfg.max_retries = 2;
  auto e = [](errc c, int status = 0) {
    error x;
    x.code = c;
    x.http_status = status;
    return x;
  };
  EXPECT_TRUE(should_retry(e(errc::unreachable), 0, cfg));
  EXPECT_TRUE(should_retry(e(errc::timeout), 1, cfg));
  EXPECT_FALSE(should_retry(e(errc::timeout), 2, cfg));  // retries used up
  EXPECT_TRUE(should_retry(e(errc::http_status, 429), 0, cfg));
  EXPECT_TRUE(should_retry(e(errc::http_status, 500), 0, cfg));
  EXPECT_TRUE(should_retry(e(errc::http_status, 503), 0, cfg));
  EXPECT_FALSE(should_retry(e(errc::http_status, 400), 0, cfg));
  EXPECT_FALSE(should_retry(e(errc::http_status, 404), 0, cfg));
  EXPECT_FALSE(should_retry(e(errc::bad_json), 0, cfg));
  EXPECT_FALSE(should_retry(e(errc::schema_mismatch), 0, cfg));
  EXPECT_FALSE(should_retry(e(errc::truncated), 0, cfg));
  EXPECT_FALSE(should_retry(e(errc::empty_answer), 0, cfg));
  EXPECT_FALSE(should_retry(e(errc::cancelled), 0, cfg));
}

TEST(Retry, RetryAfterIsHonouredWhenLongerAndCappedByBackoffMax) {
  endpoint_config cfg;
  cfg.backoff_base = milliseconds{1};
  cfg.backoff_max = milliseconds{3000};
  error e;
  e.code = errc::http_status;
  e.http_status = 429;
  e.retry_after_ms = 2000;
  EXPECT_EQ(retry_delay(e, 0, cfg), milliseconds{2000});
  e.retry_after_ms = 60000;  // a server asking for a minute gets backoff_max
  EXPECT_EQ(retry_delay(e, 0, cfg), milliseconds{3000});
  e.retry_after_ms = -1;  // none: plain jitter within [0, base]
  EXPECT_LE(retry_delay(e, 0, cfg), milliseconds{1});
  // A shorter Retry-After never shortens the computed backoff.
  cfg.backoff_base = milliseconds{1000};
  cfg.backoff_max = milliseconds{1000};
  e.retry_after_ms = 0;
  for (int i = 0; i < 50; ++i) EXPECT_LE(retry_delay(e, 5, cfg), milliseconds{1000});
}

// A streamed call is never stricter than a plain one: unset limits come from
// the call's timeout, and the generation gets the whole call timeout again
// after the first token (the queue's wait does not eat it).
TEST(Retry, StreamLimitsDeriveFromTheCallTimeoutUnlessSet) {
  endpoint_config cfg;
  auto d = stream_timeouts(cfg, milliseconds{120000});
  EXPECT_EQ(d.first_token, milliseconds{120000});
  EXPECT_EQ(d.idle, milliseconds{120000});
  EXPECT_EQ(d.whole, milliseconds{240000});

  cfg.first_token_timeout = milliseconds{600000};
  cfg.idle_timeout = milliseconds{30000};
  auto s = stream_timeouts(cfg, milliseconds{120000});
  EXPECT_EQ(s.first_token, milliseconds{600000});
  EXPECT_EQ(s.idle, milliseconds{30000});
  EXPECT_EQ(s.whole, milliseconds{720000});
}
