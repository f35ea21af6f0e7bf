// The dashboard's page, script, styles and the uPlot chart library, compiled
// into the binary (serve/CMakeLists.txt embeds serve/web/ and the uPlot that
// `make deps` installs): nothing is read from disk or fetched at run time.
#pragma once

#include <string>
#include <string_view>

namespace hrm {

struct WebAsset {
  std::string_view name;  // "app.js", served at /static/app.js
  std::string_view body;
};

// The asset called `name`, or nullptr.
const WebAsset* Asset(const std::string& name);
// Its Content-Type, from the name's extension.
std::string ContentType(std::string_view name);

}  // namespace hrm
