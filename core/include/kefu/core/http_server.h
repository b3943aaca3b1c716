// SPDX-License-Identifier: Apache-2.0
//
// HttpServer: HTTP/1.1 on Boost.Beast, feeding requests to an HttpRouter.
//
// Keeps Beast and Asio out of every other translation unit. Shutdown is in two steps so
// that nothing accepted is cut off: stopAccepting() closes the listener, then drain() waits
// until the requests in flight are answered (or the timeout passes) before stop().
#pragma once

#include <chrono>
#include <memory>
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
  void stop();

  struct Impl;  // defined with the network code

 private:
  std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT" ("[::1]:80" for IPv6). InvalidArgument when malformed.
Status parseListen(const std::string& listen, std::string& host, unsigned short& port);

}  // namespace kefu::core
