// Text formatting shared by the report's tables and figures: numbers as the
// paper prints them, config values, label templates.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/config.h"

namespace hrm {

// `v` with `decimals` digits after the point, rounding halves away from zero
// as a reader rounds the decimal number (4.3375 -> "4.338"). Never "-0.000".
std::string FormatFixed(double v, int decimals);

// FormatFixed with an explicit sign: "+0.012", "-0.128", "0.000".
std::string FormatSigned(double v, int decimals);

// A parameter count as the paper writes it: "1229M", "10.5M", "1.03M", "83.2K".
std::string FormatCount(int64_t n);

// A config value: strings as they are, integers in full, other numbers as
// printf's %g writes them ("0.0003", "3e-05").
std::string FormatScalar(const json& v);

// Fills "{key}" placeholders of `tmpl` from `vars` first, then from the
// config's fields; a placeholder that names neither becomes "?".
std::string FillTemplate(const std::string& tmpl, const json& config,
                         const std::map<std::string, std::string>& vars = {});

// A short description of a config's architecture for labels:
// "HRM N=2,T=4 d=64", "Transformer L=4 d=64", "UniTF M=12 d=64".
std::string DescribeModel(const json& config);

}  // namespace hrm
