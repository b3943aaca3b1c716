// SPDX-License-Identifier: Apache-2.0
//
// HttpServer: HTTP/1.1 on Boost.Beast, feeding requests to an HttpRouter.
//
// Keeps Beast and Asio out of every other translation unit. Shutdown is in two steps so
// that nothing accepted is cut off: stopAccepting() closes the listener, then drain() waits
// until the requests in flight are answered (or the timeout passes) before stop().
//
// WebSocket endpoints are routes of the router like any other (so that authentication,
// roles, audit and metrics are the same); addWebSocket() only tells the server which paths
// may be upgraded. Open WebSockets are not requests in flight: closeWebSockets() ends them
// with "going away" instead of drain() waiting for them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "kefu/core/http_router.h"
#include "kefu/status.h"

namespace kefu::core {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0 picks a free port
  int threads = 2;
  size_t maxBodyBytes = 1 << 20;
  std::chrono::seconds idleTimeout{30};
};

// The outgoing frames of one WebSocket connection. Bounded and dropping the oldest when
// full, so that a slow client costs a fixed amount of memory and never blocks the producer
// (an event bus handler). Frames are made by the writer, so that what is dropped is never
// formatted. Thread-safe.
class FrameQueue {
 public:
  using Frame = std::function<std::string()>;
  // `notice(count)` makes the frame that tells the client `count` frames were dropped.
  FrameQueue(size_t capacity, std::function<std::string(uint64_t)> notice);

  struct Pushed {
    bool wake = false;     // the writer was idle: start it
    bool dropped = false;  // the oldest frame was dropped to make room
  };
  // Does nothing once closed.
  Pushed push(Frame frame);
  // The next frame for the writer, or nullptr when none is waiting (the writer is then idle
  // until a push says wake). After drops, a notice with their count follows once the writer
  // has caught up (the queue is empty), or after `capacity` more frames if it never does:
  // one notice per backlog rather than one between every two frames of a slow client.
  Frame pop();
  // Discards the queued frames and refuses new ones.
  void close();
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::deque<Frame> frames_;
  size_t capacity_;
  std::function<std::string(uint64_t)> notice_;
  uint64_t dropped_ = 0;    // since the last notice
  uint64_t sinceDrop_ = 0;  // frames popped while dropped_ > 0
  bool writing_ = false;
  bool closed_ = false;
};

// One open WebSocket connection, for the code that feeds it. Thread-safe; never blocks.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Queues a text frame (see FrameQueue). Returns true if the oldest queued frame was
  // dropped to make room.
  virtual bool send(FrameQueue::Frame frame) = 0;
  // Starts a normal close (1000); the connection's end follows.
  virtual void close() = 0;
};

struct WebSocketRoute {
  // Called on a worker thread right before the server answers 101, with the request as the
  // router saw it (principal filled in); frames sent meanwhile wait for the handshake.
  // Returns the function that the server calls exactly once when the connection ends,
  // whichever side ends it (the handshake failing included).
  std::function<std::function<void()>(const HttpRequest&, std::shared_ptr<WebSocketConnection>)>
      open;
  // For routes whose clients talk (plugin WebSockets): called instead of `open`; the
  // handlers hear each text message, on the connection's strand, and the end.
  std::function<WebSocketHandlers(const HttpRequest&, std::shared_ptr<WebSocketConnection>)>
      openDuplex;
  size_t maxQueuedFrames = 1000;
  // The frame sent in place of `count` dropped ones.
  std::function<std::string(uint64_t count)> droppedNotice;
};

class HttpServer {
 public:
  HttpServer(HttpRouter& router, HttpServerOptions options);
  ~HttpServer();

  // Binds and starts the worker threads. Unavailable if the address cannot be bound.
  Status start();
  // The bound port (useful with port 0).
  unsigned short port() const;
  void stopAccepting();
  // Waits until no request is being handled. Returns false on timeout.
  bool drain(std::chrono::milliseconds timeout);
  // Closes every open WebSocket with 1001 (going away) and waits up to `timeout` for the
  // close handshakes; connections still open then (a client that does not read) are cut.
  // Returns false if some had to be cut.
  bool closeWebSockets(std::chrono::milliseconds timeout);
  void stop();

  // Lets GET requests to `path` upgrade to a WebSocket. The router must have a route for
  // the path: its answer to the upgrade request decides (101 to accept; anything else is
  // sent as a plain HTTP response). On this path only, `?access_token=` stands in for a
  // missing Authorization header, because browsers cannot set headers on a WebSocket.
  // Call before start().
  void addWebSocket(const std::string& path, WebSocketRoute route);

  struct Impl;  // defined with the network code

 private:
  std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT" ("[::1]:80" for IPv6). InvalidArgument when malformed.
Status parseListen(const std::string& listen, std::string& host, unsigned short& port);

}  // namespace kefu::core
