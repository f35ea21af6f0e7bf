#include "serve/request_target.h"

#include <boost/url/parse.hpp>
#include <boost/url/src.hpp>  // Boost.URL header-only: compiled into this one file
#include <boost/url/url_view.hpp>

#include "serve/http_server.h"

namespace hrm {
namespace {

constexpr int64_t kMaxCount = int64_t(1) << 53;

bool HasControl(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

RequestTarget ParseTarget(const std::string& target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) throw HttpError(400, "malformed request target: " + parsed.error().message());
  const boost::urls::url_view& url = *parsed;
  RequestTarget out;
  for (std::string segment : url.segments()) {
    if (segment == "." || segment == "..")
      throw HttpError(400, "path traversal: '" + segment + "' segments are refused");
    if (HasControl(segment) || segment.find('/') != std::string::npos)
      throw HttpError(400, "path segment with a control character or an encoded '/'");
    if (!segment.empty()) out.segments.push_back(std::move(segment));
  }
  for (auto param : url.params()) {
    std::string key = param.key, value = param.has_value ? std::string(param.value) : "";
    if (HasControl(key) || HasControl(value))
      throw HttpError(400, "query parameter with a control character");
    if (!out.query.emplace(key, value).second)
      throw HttpError(400, "query parameter '" + key + "' given twice");
  }
  return out;
}

int64_t CountParam(const RequestTarget& t, const std::string& name, int64_t fallback) {
  auto it = t.query.find(name);
  if (it == t.query.end()) return fallback;
  const std::string& v = it->second;
  const bool digits =
      !v.empty() && v.size() <= 16 && v.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoll(v) > kMaxCount)
    throw HttpError(400, name + " must be a whole number from 0 to 2^53, not '" + v.substr(0, 40) +
                             (v.size() > 40 ? "...'" : "'"));
  return std::stoll(v);
}

}  // namespace hrm
