// Blocking Beast on a thread per connection: the dashboard has a handful of
// clients, so plain code beats an asynchronous state machine here. An idle
// connection is closed after a minute so that threads do not pile up.
#include "serve/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace hrm {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr int kIdleSeconds = 60;
constexpr size_t kHeaderLimit = 16 * 1024;  // a GET's headers; more is not a browser
constexpr size_t kBodyLimit = 64 * 1024;    // no endpoint reads a body

http::response<http::string_body> ToBeast(const HttpResponse& r, unsigned version,
                                          bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "hrm serve");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-cache");
  if (!r.etag.empty()) res.set(http::field::etag, r.etag);
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

void Session(tcp::socket socket, const HttpHandler& handler) {
  timeval tv{kIdleSeconds, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    http::read(socket, buffer, parser, ec);
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::would_block ||
        ec == asio::error::try_again)
      break;
    if (ec) {  // not HTTP Beast can read: say so, then close
      HttpResponse bad =
          Reply(400, "text/plain; charset=utf-8", "bad request: " + ec.message() + "\n");
      http::write(socket, ToBeast(bad, 11, false), ec);
      break;
    }
    const auto& req = parser.get();
    HttpRequest in{std::string(req.method_string()), std::string(req.target()),
                   std::string(req[http::field::if_none_match])};
    HttpResponse out;
    try {
      out = handler(in);
    } catch (const std::exception& e) {  // the handler's own errors are its answers
      out = Reply(500, "application/json",
                  nlohmann::json{{"error", std::string("internal: ") + e.what()}}.dump());
    }
    http::write(socket, ToBeast(out, req.version(), req.keep_alive()), ec);
    if (ec || !req.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  HttpHandler handler;
};

HttpServer::HttpServer(const std::string& host, int port, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  const asio::ip::address address =
      asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
}

HttpServer::~HttpServer() = default;

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Run() {
  for (;;) {
    tcp::socket socket(impl_->io);
    beast::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (ec) continue;  // a client that gave up before we accepted it
    std::thread(Session, std::move(socket), std::cref(impl_->handler)).detach();
  }
}

}  // namespace hrm
