// The HTML document around report sections: one self-contained page with
// its styles inline, no scripts and nothing loaded from elsewhere.
#pragma once

#include <string>

namespace hrm {

// <!doctype html> page titled `title` with `body` (HTML) inside <main>.
std::string HtmlDocument(const std::string& title, const std::string& body);

}  // namespace hrm
