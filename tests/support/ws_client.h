// SPDX-License-Identifier: Apache-2.0
//
// A WebSocket client on Beast for tests against servers they start on loopback. Every wait
// has a timeout, so that a broken server fails a test instead of hanging it. Not
// thread-safe: the client runs its own io_context only inside its calls, so frames pile up
// in the socket (as with a slow client) between calls.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace kefu::test {

class WsClient {
 public:
  // Connects to 127.0.0.1:port and asks to upgrade `target`. status() is 101 when the
  // server accepted, its HTTP status when it refused, 0 when it did not answer in time.
  WsClient(int port, const std::string& target,
           const std::map<std::string, std::string>& headers = {},
           std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace websocket = beast::websocket;
    asio::ip::tcp::endpoint ep(asio::ip::address_v4::loopback(),
                               static_cast<unsigned short>(port));
    ended_ = true;  // until the handshake succeeds
    // Members, not locals: an operation that timed out still completes later, into them.
    ws_.next_layer().async_connect(ep, [this](beast::error_code e) { setUp(e); });
    if (!runUntil([&] { return setupDone_; }, timeout) || setupEc_) return;
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    setupDone_ = false;
    ws_.async_handshake(response_, "127.0.0.1", target,
                        [this](beast::error_code e) { setUp(e); });
    if (!runUntil([&] { return setupDone_; }, timeout)) return;
    status_ = static_cast<int>(response_.result_int());
    if (setupEc_) {
      if (status_ == 101) status_ = 0;
      return;
    }
    ended_ = false;
    read();
  }

  ~WsClient() {
    boost::beast::error_code ec;
    boost::beast::get_lowest_layer(ws_).socket().close(ec);
    io_.restart();
    io_.run_for(std::chrono::milliseconds(200));  // lets the pending read finish
  }

  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  int status() const { return status_; }
  // The body of a refusal.
  std::string body() const { return response_.body(); }

  // The next text frame, or nullopt when none came within `timeout` or the connection ended.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    runUntil([&] { return !messages_.empty() || ended_; }, timeout);
    if (messages_.empty()) return std::nullopt;
    std::string m = std::move(messages_.front());
    messages_.pop_front();
    return m;
  }

  // Sends a text frame; false when it was not written within `timeout`.
  bool send(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    if (ended_) return false;
    out_ = text;
    writeDone_ = false;
    ws_.text(true);
    ws_.async_write(boost::asio::buffer(out_), [this](boost::beast::error_code ec, size_t) {
      writeEc_ = ec;
      writeDone_ = true;
    });
    return runUntil([&] { return writeDone_; }, timeout) && !writeEc_;
  }

  // Waits up to `timeout` for the connection to end, reading (and keeping) what comes first.
  bool waitClosed(std::chrono::milliseconds timeout) {
    return runUntil([&] { return ended_; }, timeout);
  }
  bool ended() const { return ended_; }
  // The code of the server's close frame; 0 when none came.
  int closeCode() const { return closeReceived_ ? static_cast<int>(closeCode_) : 0; }

 private:
  void setUp(boost::beast::error_code ec) {
    setupEc_ = ec;
    setupDone_ = true;
  }

  template <class Done>
  bool runUntil(Done done, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      auto now = std::chrono::steady_clock::now();
      if (now >= end) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(end - now);
    }
    return true;
  }

  void read() {
    ws_.async_read(buffer_, [this](boost::beast::error_code ec, size_t) {
      if (ec) {
        if (ec == boost::beast::websocket::error::closed) {
          closeReceived_ = true;
          closeCode_ = ws_.reason().code;
        }
        ended_ = true;
        return;
      }
      messages_.push_back(boost::beast::buffers_to_string(buffer_.data()));
      buffer_.consume(buffer_.size());
      read();
    });
  }

  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{io_};
  boost::beast::websocket::response_type response_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> messages_;
  bool setupDone_ = false;
  boost::beast::error_code setupEc_;
  int status_ = 0;
  bool ended_ = false;
  bool closeReceived_ = false;
  uint16_t closeCode_ = 0;
  std::string out_;  // the frame being written
  bool writeDone_ = false;
  boost::beast::error_code writeEc_;
};

}  // namespace kefu::test
