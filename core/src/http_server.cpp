// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/http_server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "kefu/core/logging.h"

namespace kefu::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
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
  // The server binds an address, not a name.
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) return Status::invalidArgument("'" + host + "' is not an IP address");
  return {};
}

// ---- FrameQueue -----------------------------------------------------------------------

FrameQueue::FrameQueue(size_t capacity, std::function<std::string(uint64_t)> notice)
    : capacity_(std::max<size_t>(capacity, 1)), notice_(std::move(notice)) {}

FrameQueue::Pushed FrameQueue::push(Frame frame) {
  Pushed r;
  Frame old;  // declared before the lock: freed after it is released
  std::lock_guard lock(mu_);
  if (closed_) return r;
  if (frames_.size() >= capacity_) {
    old = std::move(frames_.front());
    frames_.pop_front();
    ++dropped_;
    r.dropped = true;
  }
  frames_.push_back(std::move(frame));
  if (!writing_) {
    writing_ = true;
    r.wake = true;
  }
  return r;
}

FrameQueue::Frame FrameQueue::pop() {
  std::lock_guard lock(mu_);
  if (closed_) return nullptr;
  if (dropped_ > 0 && (frames_.empty() || sinceDrop_ >= capacity_)) {
    uint64_t n = std::exchange(dropped_, 0);
    sinceDrop_ = 0;
    if (notice_) return [n, notice = notice_] { return notice(n); };
  }
  if (frames_.empty()) {
    writing_ = false;
    return nullptr;
  }
  Frame f = std::move(frames_.front());
  frames_.pop_front();
  if (dropped_ > 0) ++sinceDrop_;
  return f;
}

void FrameQueue::close() {
  std::deque<Frame> gone;  // freed after the lock is released
  std::lock_guard lock(mu_);
  closed_ = true;
  gone.swap(frames_);
}

size_t FrameQueue::size() const {
  std::lock_guard lock(mu_);
  return frames_.size();
}

// ---- HttpServer -----------------------------------------------------------------------

class WebSocketSession;

// The open WebSockets, so that shutdown can close them. Shared with the sessions because a
// session may outlive the server: handlers left in a stopped io_context are destroyed with
// it, after the server's other members.
struct WebSocketRegistry {
  std::mutex mu;
  std::condition_variable gone;
  std::map<uint64_t, std::weak_ptr<WebSocketSession>> sessions;
  uint64_t next = 1;
  bool closing = false;  // set by closeWebSockets(): later handshakes end at once

  std::vector<std::shared_ptr<WebSocketSession>> open() {
    std::vector<std::shared_ptr<WebSocketSession>> out;
    std::lock_guard lock(mu);
    for (const auto& [id, weak] : sessions) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }
};

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

  // WebSocket paths (as splitPath() segments joined by '/'), fixed before start().
  std::map<std::string, WebSocketRoute> wsRoutes;
  std::shared_ptr<WebSocketRegistry> webSockets = std::make_shared<WebSocketRegistry>();

  Impl(HttpRouter& r, HttpServerOptions o) : router(r), options(std::move(o)) {}

  void doAccept();
  const WebSocketRoute* webSocketRoute(const std::string& path) const {
    if (wsRoutes.empty()) return nullptr;
    auto it = wsRoutes.find(webSocketKey(path));
    return it == wsRoutes.end() ? nullptr : &it->second;
  }
  static std::string webSocketKey(const std::string& path) {
    std::string key;
    for (const auto& seg : splitPath(path)) key += "/" + seg;
    return key;
  }
};

// One upgraded connection. Everything but send() and end() runs on the connection's strand.
// Reads are kept outstanding so that Beast answers pings and sees the client's close; what
// the client sends goes to the route's message handler (plugin WebSockets) or is discarded.
class WebSocketSession : public WebSocketConnection,
                         public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(beast::tcp_stream&& stream, std::shared_ptr<WebSocketRegistry> registry,
                   WebSocketRoute route, HttpRequest request)
      : ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        registry_(std::move(registry)),
        route_(std::move(route)),
        request_(std::move(request)),
        queue_(route_.maxQueuedFrames, route_.droppedNotice) {}

  ~WebSocketSession() override { end(); }

  void run(http::request<http::string_body> handshake, std::chrono::seconds idleTimeout) {
    {
      std::lock_guard lock(registry_->mu);
      id_ = registry_->next++;
      registry_->sessions[id_] = weak_from_this();
      closing_ = registry_->closing;
    }
    handshake_ = std::move(handshake);
    // Beast's WebSocket timeouts replace the HTTP read deadline: a ping after half the idle
    // time, and the connection is dropped when nothing (not even a pong) came back in it.
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = idleTimeout;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "kefu");
    }));
    // Clients say little (a chat line at most); a small limit keeps them from using memory.
    ws_.read_message_max(64 * 1024);
    // Opened before the 101 goes out, so that whatever happens after the client sees it
    // reaches the client; frames wait in the queue until the handshake is done.
    try {
      if (closing_) {
        // Shutting down: no handler runs.
      } else if (route_.openDuplex) {
        WebSocketHandlers h = route_.openDuplex(request_, shared_from_this());
        closer_ = std::move(h.onClose);
        onMessage_ = std::move(h.onMessage);
      } else {
        closer_ = route_.open(request_, shared_from_this());
      }
    } catch (const std::exception& e) {
      hostLog().error("opening the WebSocket on {} failed: {}", request_.path, e.what());
      openFailed_ = true;
    }
    ws_.async_accept(handshake_, [self = shared_from_this()](beast::error_code ec) {
      self->onAccept(ec);
    });
  }

  bool send(FrameQueue::Frame frame) override {
    auto pushed = queue_.push(std::move(frame));
    if (pushed.wake) {
      asio::post(executor_, [self = shared_from_this()] { self->writeNext(); });
    }
    return pushed.dropped;
  }

  const asio::any_io_executor& executor() const { return executor_; }

  // Starts the close handshake with 1001 (or, during the handshake, right after it).
  void goingAway() {
    if (closing_ || ended_) return;
    closing_ = true;
    queue_.close();
    if (accepted_) startClose(websocket::close_code::going_away);
  }

  void close() override {
    asio::post(executor_, [self = shared_from_this()] {
      if (self->closing_ || self->ended_) return;
      if (!self->accepted_) {
        self->closing_ = true;  // onAccept closes right after the handshake
        return;
      }
      self->startClose(websocket::close_code::normal);
    });
  }

  // For a client that does not complete the close: drops the TCP connection.
  void cut() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

  // The connection is over: stop queueing, forget it, and let the route clean up. Runs
  // once, from the strand, from HttpServer::stop() after the workers stopped, or from the
  // destructor.
  void end() {
    if (ended_.exchange(true)) return;
    queue_.close();
    {
      std::lock_guard lock(registry_->mu);
      registry_->sessions.erase(id_);
    }
    registry_->gone.notify_all();
    if (closer_) {
      try {
        closer_();
      } catch (const std::exception& e) {
        hostLog().error("closing the WebSocket on {} failed: {}", request_.path, e.what());
      }
      closer_ = nullptr;
    }
  }

 private:
  void onAccept(beast::error_code ec) {
    handshake_ = {};
    if (ec) {
      end();
      return;
    }
    accepted_ = true;
    if (closing_) {
      startClose(websocket::close_code::going_away);
    } else if (openFailed_) {
      startClose(websocket::close_code::internal_error);
    } else {
      writeNext();  // what was queued during the handshake
    }
    read();
  }

  void read() {
    ws_.async_read(readBuffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->end();
        return;
      }
      if (self->onMessage_ && self->ws_.got_text() && !self->ended_) {
        try {
          self->onMessage_(beast::buffers_to_string(self->readBuffer_.data()));
        } catch (const std::exception& e) {
          hostLog().error("a message on the WebSocket {} failed: {}", self->request_.path,
                          e.what());
        }
      }
      self->readBuffer_.consume(self->readBuffer_.size());
      self->read();
    });
  }

  void writeNext() {
    // No frames before the 101; Beast allows none once the close handshake has started.
    if (!accepted_) return;
    while (!closing_ && !ended_) {
      FrameQueue::Frame next = queue_.pop();
      if (!next) return;
      try {
        out_ = next();
      } catch (const std::exception& e) {
        hostLog().error("a frame for the WebSocket on {} failed: {}", request_.path, e.what());
        continue;
      }
      ws_.text(true);
      ws_.async_write(asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) {
                          self->cut();
                          self->end();
                          return;
                        }
                        self->writeNext();
                      });
      return;
    }
  }

  void startClose(websocket::close_code code) {
    closing_ = true;
    queue_.close();
    if (closeStarted_) return;
    closeStarted_ = true;
    ws_.async_close(code, [self = shared_from_this()](beast::error_code) { self->end(); });
  }

  websocket::stream<beast::tcp_stream> ws_;
  asio::any_io_executor executor_;
  std::shared_ptr<WebSocketRegistry> registry_;
  WebSocketRoute route_;
  HttpRequest request_;
  http::request<http::string_body> handshake_;
  FrameQueue queue_;
  beast::flat_buffer readBuffer_;
  std::string out_;  // the frame being written; Beast needs it until the write completes
  std::function<void()> closer_;
  std::function<void(const std::string&)> onMessage_;
  uint64_t id_ = 0;
  bool accepted_ = false;
  bool openFailed_ = false;
  bool closing_ = false;
  bool closeStarted_ = false;
  std::atomic<bool> ended_{false};
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

    const WebSocketRoute* ws = server_.webSocketRoute(req.path);
    bool upgrade = ws && websocket::is_upgrade(msg);
    if (ws && !req.headers.count("authorization")) {
      // Browsers cannot set headers on a WebSocket: the token may come in the query, and is
      // then checked by the same authenticator as a header. Only on WebSocket paths, since a
      // token in a URL can end up in proxy logs and browser history.
      auto token = req.query.find("access_token");
      if (token != req.query.end()) req.headers["authorization"] = "Bearer " + token->second;
    }
    if (upgrade && !server_.accepting.load()) {
      respond(HttpResponse::error(503, "unavailable", "the server is shutting down"), false,
              msg.version());
      return;
    }
    HttpResponse resp = server_.router.dispatch(req);
    if (resp.status == 101) {
      if (upgrade) {
        startWebSocket(*ws, std::move(req));
        return;
      }
      resp = HttpResponse::error(426, "upgrade_required",
                                 "a WebSocket handshake needs GET over HTTP/1.1 with "
                                 "'Connection: Upgrade' and 'Upgrade: websocket'");
      resp.headers.emplace_back("Upgrade", "websocket");
    }
    // A refused upgrade ends the connection: the client expected to switch protocols.
    bool keepAlive = msg.keep_alive() && server_.accepting.load() && !upgrade;
    respond(resp, keepAlive, msg.version(), req.method == "HEAD");
  }

  void startWebSocket(const WebSocketRoute& route, HttpRequest req) {
    // The stream is not a request in flight: drain() must not wait for it.
    finishRequest();
    auto ws = std::make_shared<WebSocketSession>(std::move(stream_), server_.webSockets, route,
                                                 std::move(req));
    ws->run(parser_->release(), server_.options.idleTimeout);
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

void HttpServer::addWebSocket(const std::string& path, WebSocketRoute route) {
  impl_->wsRoutes[Impl::webSocketKey(path)] = std::move(route);
}

bool HttpServer::closeWebSockets(std::chrono::milliseconds timeout) {
  auto& registry = *impl_->webSockets;
  auto waitEmpty = [&registry](std::chrono::milliseconds t) {
    std::unique_lock lock(registry.mu);
    return registry.gone.wait_for(lock, t, [&] { return registry.sessions.empty(); });
  };
  {
    std::lock_guard lock(registry.mu);
    registry.closing = true;
  }
  for (auto& s : registry.open()) asio::post(s->executor(), [s] { s->goingAway(); });
  if (waitEmpty(timeout)) return true;
  // A client that does not read blocks the close frame behind a pending write.
  auto left = registry.open();
  hostLog().warn("{} WebSocket(s) did not close within {} ms; dropping them", left.size(),
                 timeout.count());
  for (auto& s : left) asio::post(s->executor(), [s] { s->cut(); });
  left.clear();
  waitEmpty(std::chrono::milliseconds(500));
  return false;
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
  // Connections whose handlers never ran again still hold their route's resources (bus
  // subscriptions); release them now, while what they refer to is alive.
  for (auto& s : impl_->webSockets->open()) s->end();
}

}  // namespace kefu::core
