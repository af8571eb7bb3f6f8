// The frontend's authentication paths: a password not verified lately is answered from the
// verifier threads (a deferred reply: Argon2id never runs on an io thread), a remembered one at
// once; wrong passwords are 401 either way.
#include "server/frontend.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <future>
#include <random>

using namespace openmapi;
using namespace openmapi::server;
namespace fs = std::filesystem;

namespace {

// A request with HTTP Basic credentials (`basic`: base64 of "user:password").
HttpRequest get(const std::string& basic) {
  HttpRequest req;
  req.msg.method(http::verb::get);
  req.msg.target("/nothing");
  req.msg.set(http::field::authorization, "Basic " + basic);
  req.remote = "127.0.0.1";
  return req;
}
const char* kRight = "YWxpY2VAZXhhbXBsZS5jb206cmlnaHQ=";  // alice@example.com:right
const char* kWrong = "YWxpY2VAZXhhbXBsZS5jb206d3Jvbmc=";  // alice@example.com:wrong

// Runs a deferred reply to its end (its completion comes from a verifier thread).
HttpReply complete(HttpReply r) {
  if (!r.deferred) return r;
  boost::asio::io_context io;
  std::promise<HttpReply> p;
  r.deferred(io.get_executor(), [&](HttpReply done) { p.set_value(std::move(done)); });
  return p.get_future().get();
}

}  // namespace

TEST(Frontend, ASlowPasswordCheckIsDeferredAndARememberedOneIsNot) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("openmapi-frontend-" + std::to_string(rd()));
  {
    UserDirectory users(dir.string(), true);
    users.add("alice@example.com", "Alice", "right");
  }
  ServerConfig config;
  config.data_dir = dir.string();
  Frontend f(config, "https://localhost:8443");
  HttpReply first = f.handle(get(kRight));
  EXPECT_TRUE(bool(first.deferred));  // Argon2id: off the io thread
  EXPECT_EQ(complete(std::move(first)).msg.result(), http::status::not_found);
  HttpReply again = f.handle(get(kRight));
  EXPECT_FALSE(bool(again.deferred));  // remembered: answered at once
  EXPECT_EQ(again.msg.result(), http::status::not_found);
  HttpReply wrong = f.handle(get(kWrong));
  EXPECT_TRUE(bool(wrong.deferred));
  EXPECT_EQ(complete(std::move(wrong)).msg.result(), http::status::unauthorized);
  HttpReply none = f.handle(HttpRequest{});
  EXPECT_FALSE(bool(none.deferred));
  EXPECT_EQ(none.msg.result(), http::status::unauthorized);
  fs::remove_all(dir);
}
