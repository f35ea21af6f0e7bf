#include "report/format.h"

#include <fmt/format.h>

#include <cmath>

namespace hrm {

std::string FormatFixed(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double scale = std::pow(10.0, decimals);
  // The 1e-9 nudge rounds a decimal half (4.3375, stored as 4.33749999...)
  // up, as the paper's numbers were rounded.
  const double units = std::floor(std::abs(v) * scale + 0.5 + 1e-9);
  const double rounded = (v < 0 && units != 0 ? -units : units) / scale;
  return fmt::format("{:.{}f}", rounded, decimals);
}

std::string FormatSigned(double v, int decimals) {
  std::string s = FormatFixed(v, decimals);
  if (s[0] == '-' || s.find_first_not_of("0.") == std::string::npos) return s;
  return "+" + s;
}

std::string FormatCount(int64_t n) {
  const double v = double(n);
  if (v >= 1e8) return FormatFixed(v / 1e6, 0) + "M";
  if (v >= 1e7) return FormatFixed(v / 1e6, 1) + "M";
  if (v >= 1e6) return FormatFixed(v / 1e6, 2) + "M";
  if (v >= 1e5) return FormatFixed(v / 1e3, 0) + "K";
  if (v >= 1e4) return FormatFixed(v / 1e3, 1) + "K";
  return std::to_string(n);
}

std::string FormatScalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_boolean()) return v.dump();
  if (v.is_number_float()) return fmt::format("{:g}", v.get<double>());
  if (v.is_null()) return "—";
  return v.dump();
}

std::string FillTemplate(const std::string& tmpl, const json& config,
                         const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    const size_t open = tmpl.find('{', i);
    const size_t close = open == std::string::npos ? open : tmpl.find('}', open);
    if (close == std::string::npos) {
      out += tmpl.substr(i);
      break;
    }
    out += tmpl.substr(i, open - i);
    const std::string key = tmpl.substr(open + 1, close - open - 1);
    auto var = vars.find(key);
    if (var != vars.end())
      out += var->second;
    else if (config.is_object() && config.contains(key))
      out += FormatScalar(config[key]);
    else
      out += "?";
    i = close + 1;
  }
  return out;
}

std::string DescribeModel(const json& config) {
  const std::string model = config.value("model", std::string("?"));
  std::string d = config.contains("d") ? " d=" + FormatScalar(config["d"]) : "";
  if (model == "transformer") return FillTemplate("Transformer L={L}", config) + d;
  if (model == "unitf") return FillTemplate("UniTF M={M}", config) + d;
  if (model == "hrm") return FillTemplate("HRM N={N},T={T}", config) + d;
  return model + d;
}

}  // namespace hrm
