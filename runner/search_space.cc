// Reading a `search:` block and drawing its trials. Every check is made here,
// at load time, so that a bad block is rejected before anything is written.
#include "runner/search_space.h"

#include <yaml-cpp/yaml.h>

#include <boost/random/sobol.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "base/sha256.h"
#include "runner/grid.h"

namespace hrm {
namespace {

[[noreturn]] void Fail(const std::string& where, const std::string& key,
                       const std::string& reason) {
  throw GridError(where + ": " + key + ": " + reason);
}

struct Reader {
  std::string path;
  std::string Where(const YAML::Node& n) const {
    return path + ":" + std::to_string(n.Mark().line + 1);
  }
  // The entries of a mapping in file order; a key given twice is an error.
  std::vector<std::pair<std::string, YAML::Node>> Entries(const YAML::Node& map,
                                                          const std::string& what,
                                                          const std::string& where) const {
    if (!map.IsMap()) Fail(where, what, "expected a mapping");
    std::vector<std::pair<std::string, YAML::Node>> out;
    std::set<std::string> seen;
    for (const auto& kv : map) {
      if (!seen.insert(kv.first.Scalar()).second)
        Fail(Where(kv.first), kv.first.Scalar(), "given twice");
      out.emplace_back(kv.first.Scalar(), kv.second);
    }
    return out;
  }
};

int64_t Integer(const YAML::Node& n, const std::string& where, const std::string& key,
                int64_t min) {
  if (!n.IsScalar()) Fail(where, key, "expected an integer");
  const std::string text = n.Scalar();
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
  }
  if (used == 0 || used != text.size()) Fail(where, key, "expected an integer (got " + text + ")");
  if (v < min) Fail(where, key, "must be >= " + std::to_string(min) + " (got " + text + ")");
  return v;
}

double Number(const YAML::Node& n, const std::string& where, const std::string& key) {
  const std::string text = n.IsScalar() ? n.Scalar() : "";
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used == 0 || used != text.size() || !std::isfinite(v))
    Fail(where, key, "expected a number (got " + (text.empty() ? "a non-scalar" : text) + ")");
  return v;
}

// A value of `key` as the grid reads it, checked for type and range.
json GridValueOf(const std::string& key, const std::string& text, const std::string& where) {
  try {
    return ParseGridValue(key, text);
  } catch (const ConfigError& e) {
    throw GridError(where + ": " + e.what());
  }
}

bool IsFloatKey(const std::string& key) {
  if (key == "K_frac") return true;
  const KeySpec* spec = FindKey(key);
  return spec && spec->type == KeyType::kFloat;
}

bool IsIntKey(const std::string& key) {
  const KeySpec* spec = FindKey(key);
  return spec && spec->type == KeyType::kInt;
}

SearchDim ReadDim(const Reader& r, const std::string& key, const YAML::Node& v,
                  const std::string& where) {
  SearchDim d;
  d.key = key;
  d.where = where;
  if (key == "label") Fail(where, key, "not a config key; use {key} placeholders in labels");
  if (key != "K_frac" && !FindKey(key)) Fail(where, key, "unknown key");
  if (v.IsScalar()) {
    d.choices = {GridValueOf(key, v.Scalar(), where)};
    return d;
  }
  const char* shape = "expected a value or {uniform|loguniform|int|choice: ...}";
  if (!v.IsMap()) Fail(where, key, shape);
  bool have_digits = false;
  for (const auto& [name, arg] : r.Entries(v, key, where)) {
    const std::string at = r.Where(arg);
    if (name == "digits") {
      d.digits = int(Integer(arg, at, key + ".digits", 1));
      if (d.digits > 15) Fail(at, key + ".digits", "at most 15 significant digits");
      have_digits = true;
      continue;
    }
    if (d.kind != SearchDim::Kind::kFixed || !d.choices.empty())
      Fail(at, key, "give one distribution (uniform, loguniform, int or choice)");
    if (name == "uniform" || name == "loguniform" || name == "int") {
      if (!arg.IsSequence() || arg.size() != 2) Fail(at, key + "." + name, "expected [low, high]");
      d.lo = Number(arg[0], at, key + "." + name);
      d.hi = Number(arg[1], at, key + "." + name);
      if (name == "int") {
        d.kind = SearchDim::Kind::kInt;
        if (!IsIntKey(key)) Fail(at, key, "int draws integers; " + key + " is not an integer key");
        if (d.lo != std::floor(d.lo) || d.hi != std::floor(d.hi))
          Fail(at, key + ".int", "bounds must be integers");
        if (d.lo > d.hi) Fail(at, key + ".int", "low is above high");
      } else {
        d.kind = name == "uniform" ? SearchDim::Kind::kUniform : SearchDim::Kind::kLogUniform;
        if (!IsFloatKey(key))
          Fail(at, key,
               name + " draws real numbers; " + key +
                   " is not a real-valued key (use int "
                   "or choice)");
        if (!(d.lo < d.hi)) Fail(at, key + "." + name, "low must be below high");
        if (d.kind == SearchDim::Kind::kLogUniform && d.lo <= 0)
          Fail(at, key + ".loguniform", "bounds must be positive");
        // Both ends must be values the key accepts (e.g. lr > 0).
        for (double b : {d.lo, d.hi}) {
          char text[40];
          std::snprintf(text, sizeof text, "%.17g", b);
          GridValueOf(key, text, at);
        }
      }
    } else if (name == "choice") {
      if (!arg.IsSequence() || arg.size() == 0)
        Fail(at, key + ".choice", "expected a non-empty list of values");
      d.kind = SearchDim::Kind::kChoice;
      for (const auto& c : arg) {
        if (!c.IsScalar()) Fail(r.Where(c), key + ".choice", "expected a single value");
        json value = GridValueOf(key, c.Scalar(), r.Where(c));
        for (const auto& seen : d.choices)
          if (seen == value) Fail(r.Where(c), key + ".choice", c.Scalar() + " given twice");
        d.choices.push_back(value);
      }
    } else {
      Fail(at, key, "unknown distribution " + name + " (uniform, loguniform, int, choice)");
    }
  }
  if (d.kind == SearchDim::Kind::kFixed && d.choices.empty()) Fail(where, key, shape);
  if (have_digits && d.kind != SearchDim::Kind::kUniform && d.kind != SearchDim::Kind::kLogUniform)
    Fail(where, key + ".digits", "only uniform and loguniform values are rounded");
  return d;
}

SearchScheduler ReadScheduler(const Reader& r, const YAML::Node& node, const std::string& where) {
  SearchScheduler s;
  s.where = where;
  for (const auto& [name, v] : r.Entries(node, "scheduler", where)) {
    const std::string at = r.Where(v), key = "scheduler." + name;
    if (name == "type") {
      s.type = v.IsScalar() ? v.Scalar() : "";
      if (s.type != "sha" && s.type != "asha") Fail(at, key, "expected sha or asha");
    } else if (name == "min_steps") {
      s.min_steps = Integer(v, at, key, 1);
    } else if (name == "min_evals") {
      s.min_evals = Integer(v, at, key, 1);
    } else if (name == "reduction_factor") {
      s.eta = Integer(v, at, key, 2);
    } else if (name == "metric") {
      s.metric = v.IsScalar() ? v.Scalar() : "";
      if (s.metric != "val_ce" && s.metric != "train_ce")
        Fail(at, key, "expected val_ce or train_ce");
    } else {
      Fail(at, key, "unknown key (type, min_steps or min_evals, reduction_factor, metric)");
    }
  }
  if (s.type.empty()) Fail(where, "scheduler.type", "missing (sha or asha)");
  if ((s.min_steps > 0) == (s.min_evals > 0))
    Fail(where, "scheduler.min_steps",
         "give the first rung as min_steps (steps) or min_evals (eval intervals), one of them");
  return s;
}

// A uniform double in [0, 1) that depends only on (seed, trial, dim): the
// first 53 bits of SHA-256 of their text. Counter-based, so trial i never
// depends on how many trials were drawn before it or in which order.
double CounterUniform(uint64_t seed, uint64_t trial, uint64_t dim) {
  const std::string digest =
      Sha256Hex(std::to_string(seed) + "/" + std::to_string(trial) + "/" + std::to_string(dim));
  const uint64_t bits = std::stoull(digest.substr(0, 14), nullptr, 16) >> 3;  // 53 bits
  return double(bits) / double(uint64_t(1) << 53);
}

json Draw(const SearchDim& d, double u) {
  switch (d.kind) {
    case SearchDim::Kind::kFixed:
      return d.choices.front();
    case SearchDim::Kind::kChoice: {
      const size_t n = d.choices.size();
      return d.choices[std::min(n - 1, size_t(u * double(n)))];
    }
    case SearchDim::Kind::kInt: {
      const double span = d.hi - d.lo + 1;
      return int64_t(std::min(d.hi, d.lo + std::floor(u * span)));
    }
    case SearchDim::Kind::kUniform:
      return RoundSignificant(d.lo + u * (d.hi - d.lo), d.digits);
    case SearchDim::Kind::kLogUniform:
      return RoundSignificant(std::exp(std::log(d.lo) + u * (std::log(d.hi) - std::log(d.lo))),
                              d.digits);
  }
  return nullptr;
}

// The dims a sampler draws (every one but the fixed).
std::vector<const SearchDim*> Drawn(const SearchSpec& spec) {
  std::vector<const SearchDim*> out;
  for (const auto& d : spec.space)
    if (d.kind != SearchDim::Kind::kFixed) out.push_back(&d);
  return out;
}

// trials × drawn dims of values in [0, 1) (random, sobol) or choice indices (grid).
std::vector<std::vector<json>> Points(const SearchSpec& spec) {
  const std::vector<const SearchDim*> dims = Drawn(spec);
  std::vector<std::vector<json>> points(size_t(spec.trials));
  if (spec.sampler == "grid") {
    for (int64_t i = 0; i < spec.trials; ++i) {
      int64_t rest = i;  // mixed radix, the last dim varying fastest
      points[i].resize(dims.size());
      for (size_t k = dims.size(); k-- > 0;) {
        const int64_t n = int64_t(dims[k]->choices.size());
        points[i][k] = dims[k]->choices[size_t(rest % n)];
        rest /= n;
      }
    }
    return points;
  }
  boost::random::sobol sobol(std::max<size_t>(1, dims.size()));
  for (int64_t i = 0; i < spec.trials; ++i) {
    // Point i of the Sobol sequence, counting its all-zero first point as 0
    // (Boost's seed(n) positions at point n + 1), so that the first 2^m
    // trials stratify every axis.
    if (spec.sampler == "sobol" && i > 0) sobol.seed(uint64_t(i - 1));
    for (size_t k = 0; k < dims.size(); ++k) {
      double u;
      if (spec.sampler == "sobol") {
        // Shifted by a seeded offset (mod 1): the seed picks another
        // low-discrepancy set, the counter still picks the point.
        const double s = i == 0 ? 0.0 : double(sobol()) / 18446744073709551616.0;  // / 2^64
        u = std::fmod(s + CounterUniform(spec.seed, ~uint64_t(0), k), 1.0);
      } else {
        u = CounterUniform(spec.seed, uint64_t(i), k);
      }
      points[i].push_back(Draw(*dims[k], u));
    }
  }
  return points;
}

}  // namespace

double RoundSignificant(double x, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*e", digits - 1, x);
  return std::strtod(text, nullptr);
}

SearchSpec LoadSearch(const YAML::Node& node, const std::string& path, const std::string& where) {
  Reader r{path};
  SearchSpec s;
  s.where = where;
  bool have_trials = false, have_space = false;
  std::string trials_where;
  for (const auto& [name, v] : r.Entries(node, "search", where)) {
    const std::string at = r.Where(v), key = "search." + name;
    if (name == "sampler") {
      s.sampler = v.IsScalar() ? v.Scalar() : "";
      if (s.sampler != "random" && s.sampler != "sobol" && s.sampler != "grid")
        Fail(at, key, "expected random, sobol or grid");
    } else if (name == "trials") {
      s.trials = Integer(v, at, key, 1);
      have_trials = true;
      trials_where = at;
    } else if (name == "seed") {
      s.seed = uint64_t(Integer(v, at, key, 0));
    } else if (name == "space") {
      have_space = true;
      for (const auto& [k, dim] : r.Entries(v, key, at))
        s.space.push_back(ReadDim(r, k, dim, r.Where(dim)));
      if (s.space.empty()) Fail(at, key, "empty space");
    } else if (name == "scheduler") {
      s.scheduler = ReadScheduler(r, v, at);
    } else {
      Fail(at, key, "unknown key (sampler, trials, seed, space, scheduler)");
    }
  }
  if (!have_space) Fail(where, "search.space", "missing: the keys to search");
  const std::vector<const SearchDim*> drawn = Drawn(s);
  if (drawn.empty()) Fail(where, "search.space", "no key varies (every value is fixed)");
  if (s.sampler == "grid") {
    if (have_trials)
      Fail(trials_where, "search.trials", "the grid sampler takes every point; leave trials out");
    s.trials = 1;
    for (const SearchDim* d : drawn) {
      if (d->kind != SearchDim::Kind::kChoice)
        Fail(d->where, d->key, "the grid sampler takes choice lists only");
      s.trials *= int64_t(d->choices.size());
    }
  } else if (!have_trials) {
    Fail(where, "search.trials", "missing: how many trials to draw");
  }
  return s;
}

GridAxis TrialAxis(const SearchSpec& spec) {
  const std::vector<std::vector<json>> points = Points(spec);
  GridAxis axis;
  axis.trials = true;
  size_t drawn = 0;
  for (const auto& d : spec.space) {
    GridValue v{d.key, json::array(), d.where};
    for (const auto& p : points)
      v.value.push_back(d.kind == SearchDim::Kind::kFixed ? d.choices.front() : p[drawn]);
    if (d.kind != SearchDim::Kind::kFixed) ++drawn;
    axis.keys.push_back(std::move(v));
  }
  return axis;
}

std::vector<std::string> SearchedKeys(const SearchSpec& spec) {
  std::vector<std::string> keys;
  for (const SearchDim* d : Drawn(spec)) keys.push_back(d->key);
  return keys;
}

}  // namespace hrm
