// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/http_server.h"

#include <atomic>
#include <condition_variable>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "kefu/core/logging.h"

namespace kefu::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Status parseListen(const std::string& listen, std::string& host, unsigned short& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return Status::invalidArgument("expected HOST:PORT, got '" + listen + "'");
  }
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string p = listen.substr(colon + 1);
  if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5 ||
      std::stoul(p) > 65535) {
    return Status::invalidArgument("invalid port in '" + listen + "'");
  }
  port = static_cast<unsigned short>(std::stoul(p));
  return {};
}

struct HttpServer::Impl {
  HttpRouter& router;
  HttpServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::atomic<int> inFlight{0};
  std::atomic<bool> accepting{false};
  std::mutex mu;
  std::condition_variable idle;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  Impl(HttpRouter& r, HttpServerOptions o) : router(r), options(std::move(o)) {}

  void doAccept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_.options.maxBodyBytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(server_.options.idleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->onRead(ec);
                     });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      close();
      return;
    }
    if (ec) {
      // Malformed or oversized requests get a 4xx with the reason, then the connection
      // closes because the stream position is unknown.
      int status = ec == http::error::body_limit ? 413 : 400;
      HttpResponse r = HttpResponse::error(status, status == 413 ? "payload_too_large" :
                                                                   "bad_request",
                                           ec.message());
      respond(r, false, 11);
      return;
    }
    auto& msg = parser_->get();
    server_.inFlight.fetch_add(1);
    HttpRequest req;
    req.method = std::string(msg.method_string());
    std::string_view target(msg.target().data(), msg.target().size());
    // Only origin-form targets; an encoded '/' would let a path mean one thing to a proxy's
    // prefix rule and another to the router.
    std::string_view rawPath = target.substr(0, target.find('?'));
    bool encodedSlash = rawPath.find("%2F") != std::string_view::npos ||
                        rawPath.find("%2f") != std::string_view::npos;
    if (target.empty() || target.front() != '/' || encodedSlash) {
      HttpResponse r = HttpResponse::error(
          400, "bad_request",
          encodedSlash ? "encoded '/' (%2F) is not allowed in paths"
                       : "the request target must be a path starting with '/'");
      respond(r, false, msg.version());
      return;
    }
    parseTarget(target, req.path, req.query);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(f.value());
    }
    req.body = std::move(msg.body());
    beast::error_code epEc;
    auto ep = stream_.socket().remote_endpoint(epEc);
    if (!epEc) req.remoteAddress = ep.address().to_string();
    HttpResponse resp = server_.router.dispatch(req);
    bool keepAlive = msg.keep_alive() && server_.accepting.load();
    respond(resp, keepAlive, msg.version(), req.method == "HEAD");
  }

  void respond(const HttpResponse& r, bool keepAlive, unsigned version, bool head = false) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "kefu");
    res->set(http::field::content_type, r.contentType);
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keepAlive);
    if (head) {
      // HEAD: the length GET would send, no body.
      res->content_length(r.body.size());
    } else {
      res->body() = r.body;
      res->prepare_payload();
    }
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keepAlive, counted = parser_->is_done()](
                          beast::error_code ec, size_t) {
                        if (counted) self->finishRequest();
                        if (ec || !keepAlive) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void finishRequest() {
    if (server_.inFlight.fetch_sub(1) == 1) {
      std::lock_guard lock(server_.mu);
      server_.idle.notify_all();
    }
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl& server_;
};

}  // namespace

void HttpServer::Impl::doAccept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket s) {
    if (!accepting.load()) return;
    if (!ec) {
      std::make_shared<Session>(std::move(s), *this)->run();
    } else if (ec != asio::error::operation_aborted) {
      hostLog().warn("accept failed: {}", ec.message());
    }
    doAccept();
  });
}

HttpServer::HttpServer(HttpRouter& router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) {
    return Status::invalidArgument("cannot listen on '" + impl_->options.host +
                                   "': not an IP address");
  }
  tcp::endpoint ep(address, impl_->options.port);
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::unavailable("cannot listen on " + impl_->options.host + ":" +
                               std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->accepting = true;
  impl_->work.emplace(impl_->io.get_executor());
  impl_->doAccept();
  for (int i = 0; i < impl_->options.threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  return {};
}

unsigned short HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::stopAccepting() {
  if (!impl_->accepting.exchange(false)) return;
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
}

bool HttpServer::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->idle.wait_for(lock, timeout, [&] { return impl_->inFlight.load() == 0; });
}

void HttpServer::stop() {
  if (!impl_) return;
  stopAccepting();
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace kefu::core
