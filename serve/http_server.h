// A small HTTP/1.1 server on Boost.Beast: Beast parses and writes the
// messages; this file accepts connections (one thread each, keep-alive) and
// hands every request to one handler. Requests Beast cannot parse get 400.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace hrm {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // origin form, as sent: "/api/runs/ab12?since=3"
  std::string if_none_match;  // the If-None-Match header, or ""
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string etag;                                          // sent as ETag when not empty
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// A response with no ETag or extra headers.
inline HttpResponse Reply(int status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

// A request the server refuses: `status` (4xx) and a message for the client.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // Binds host:port (port 0: a free port the system picks). Throws
  // std::runtime_error naming the address when it cannot.
  HttpServer(const std::string& host, int port, HttpHandler handler);
  ~HttpServer();

  // The port bound.
  int port() const;
  // Accepts connections until the process ends.
  void Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hrm
