// What a request asks for: its path segments and query parameters, decoded.
// The parsing is Boost.URL's; this adds the dashboard's refusals.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace hrm {

struct RequestTarget {
  std::vector<std::string> segments;         // "/api/runs/ab12" -> {"api", "runs", "ab12"}
  std::map<std::string, std::string> query;  // "since=3&x=" -> {since: "3", x: ""}
};

// Parses an origin-form target ("/api/runs/ab12?since=3"). Throws HttpError
// 400 naming what is wrong: not a target, a "." or ".." segment (path
// traversal, also when percent-encoded), a control character, a parameter
// given twice.
RequestTarget ParseTarget(const std::string& target);

// The query parameter `name` as a count in [0, 2^53] (a number every JSON
// reader holds exactly); `fallback` when absent. Throws HttpError 400 naming
// the parameter when it is anything else ("-1", "1e3", a 30-digit number).
int64_t CountParam(const RequestTarget& t, const std::string& name, int64_t fallback);

}  // namespace hrm
