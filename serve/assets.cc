#include "serve/assets.h"

#include "serve/web_assets.inc"  // kAssets, generated from the files by CMake

namespace hrm {

const WebAsset* Asset(const std::string& name) {
  for (const WebAsset& a : kAssets)
    if (a.name == name) return &a;
  return nullptr;
}

std::string ContentType(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace hrm
