#include "serve/dashboard.h"

#include <chrono>
#include <ctime>
#include <functional>
#include <set>

#include "report/paper_report.h"
#include "report/search_report.h"
#include "serve/assets.h"

namespace hrm {
namespace {

using json = nlohmann::json;

// Run ids are 12 hex digits (RunId); a little leeway for ids other tools made.
void CheckRunId(const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 64 &&
                  id.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_-") == std::string::npos;
  if (!ok) throw HttpError(400, "bad run id '" + id.substr(0, 64) + "': letters, digits, _ and -");
}

int64_t SweepId(const std::string& text) {
  const bool ok = !text.empty() && text.size() <= 15 &&
                  text.find_first_not_of("0123456789") == std::string::npos;
  if (!ok) throw HttpError(400, "bad sweep id '" + text.substr(0, 64) + "': a whole number");
  return std::stoll(text);
}

// Refuses query parameters the route does not take, so that a typo is an
// error rather than an unfiltered answer.
void OnlyParams(const RequestTarget& t, const std::set<std::string>& allowed) {
  for (const auto& [key, value] : t.query)
    if (!allowed.count(key)) {
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
      throw HttpError(
          400, "unknown query parameter '" + key.substr(0, 64) + "'" +
                   (names.empty() ? ": this route takes none" : "; this route takes " + names));
    }
}

double SecondsSince(const std::string& iso) {
  std::tm tm{};
  if (iso.empty() || !strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1;
  return std::difftime(std::time(nullptr), timegm(&tm));
}

json OverviewJson(const SweepOverview& o) {
  json counts = json::object();
  for (int i = 0; i < kRunStatusCount; ++i)
    counts[ToString(static_cast<RunStatus>(i))] = o.status.count[i];
  const double progress = o.steps_total > 0 ? double(o.steps_done) / double(o.steps_total) : 0;
  // ETA: the steps left at the rate this sweep has trained since its first
  // run started; none while nothing is left to do or nothing has started.
  json eta;
  const double elapsed = SecondsSince(o.first_started);
  const bool unfinished = o.status.Count(RunStatus::kPending) +
                              o.status.Count(RunStatus::kRunning) +
                              o.status.Count(RunStatus::kInterrupted) >
                          0;
  if (unfinished && elapsed > 0 && o.steps_done > 0)
    eta = elapsed * double(o.steps_total - o.steps_done) / double(o.steps_done);
  return {{"id", o.sweep.id},
          {"name", o.sweep.name},
          {"grid", o.sweep.grid_path},
          {"profile", o.sweep.profile},
          {"overrides", o.sweep.overrides},
          {"created_at", o.sweep.created_at},
          {"updated_at", o.sweep.updated_at},
          {"total", o.status.total},
          {"counts", counts},
          {"steps_done", o.steps_done},
          {"steps_total", o.steps_total},
          {"progress", progress},
          {"eta_s", eta}};
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./=:@") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

HttpResponse Json(const json& body, int status = 200) {
  // Invalid UTF-8 in a stored string is replaced, not a failed answer.
  return Reply(status, "application/json",
               body.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Answers 304 when the client already has this body (If-None-Match).
HttpResponse Tagged(const HttpRequest& request, HttpResponse response) {
  response.etag = "\"" + std::to_string(std::hash<std::string>{}(response.body)) + "\"";
  if (request.if_none_match == response.etag) {
    response.status = 304;
    response.body.clear();
  }
  return response;
}

}  // namespace

Dashboard::Dashboard(const std::string& store_path)
    : path_(store_path),
      store_(store_path),
      // Cursors start at the clock in microseconds, so that those of an
      // earlier server process are older than any of this one's.
      stamp_(std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count()) {}

HttpResponse Dashboard::Handle(const HttpRequest& request) {
  try {
    if (request.method != "GET") {
      HttpResponse r = Json({{"error", "method " + request.method.substr(0, 16) +
                                           " not allowed: the dashboard only reads (GET)"}},
                            405);
      r.headers.emplace_back("Allow", "GET");
      return r;
    }
    return Route(request, ParseTarget(request.target));
  } catch (const HttpError& e) {
    return Json({{"error", e.what()}}, e.status());
  } catch (const StoreError& e) {
    return Json({{"error", e.what()}}, 503);
  }
}

HttpResponse Dashboard::Route(const HttpRequest& request, const RequestTarget& t) {
  const auto& s = t.segments;
  const std::string path = [&] {
    std::string p;
    for (const auto& seg : s) p += "/" + seg;
    return p.empty() ? "/" : p;
  }();
  auto page = [&] {
    OnlyParams(t, {});
    return Reply(200, "text/html; charset=utf-8", std::string(Asset("index.html")->body));
  };
  if (s.empty()) return page();
  if (s.size() == 2 && s[0] == "sweeps") {
    SweepId(s[1]);
    return page();
  }
  if (s.size() == 3 && s[0] == "sweeps" && s[2] == "search") {
    OnlyParams(t, {});
    return Reply(200, "text/html; charset=utf-8", SearchPage(SweepId(s[1])));
  }
  if (s.size() == 2 && s[0] == "runs") {
    CheckRunId(s[1]);
    return page();
  }
  if (s.size() == 1 && s[0] == "favicon.ico") return Reply(204, "image/x-icon", "");
  if (s.size() == 2 && s[0] == "static") {
    const WebAsset* asset = Asset(s[1]);
    if (!asset) throw HttpError(404, "no such file: " + path.substr(0, 200));
    return Tagged(request, Reply(200, ContentType(asset->name), std::string(asset->body)));
  }
  if (s.size() == 1 && s[0] == "report") {
    OnlyParams(t, {});
    StoreReader fresh(path_);  // its own connection and sweep cache: the store as it is now
    return Reply(200, "text/html; charset=utf-8", PaperReportPage(fresh, BuildOptions{}));
  }
  if (s.size() >= 2 && s[0] == "api") {
    if (s.size() == 2 && s[1] == "sweeps") {
      OnlyParams(t, {});
      return Tagged(request, Json(Sweeps()));
    }
    if (s.size() == 3 && s[1] == "sweeps")
      return Reply(200, "application/json", SweepView(SweepId(s[2]), t));
    if (s.size() == 3 && s[1] == "runs") {
      CheckRunId(s[2]);
      OnlyParams(t, {});
      return Tagged(request, Json(RunView(s[2])));
    }
    if (s.size() == 4 && s[1] == "runs" && s[3] == "evals") {
      CheckRunId(s[2]);
      return Json(RunEvals(s[2], t));
    }
  }
  throw HttpError(404, "no such page: " + path.substr(0, 200));
}

json& Dashboard::Overviews() {
  const int64_t version = store_.DataVersion();
  if (version != overview_version_) {
    overviews_ = json::array();
    for (const SweepOverview& o : store_.Sweeps()) {
      overviews_.push_back(OverviewJson(o));
      overviews_.back()["search"] = store_.IsSearch(o.sweep.id);
    }
    overview_version_ = version;
  }
  return overviews_;
}

json Dashboard::Sweeps() {
  std::lock_guard<std::mutex> lock(mu_);
  return {{"store", path_}, {"sweeps", Overviews()}};
}

std::string Dashboard::SweepView(int64_t id, const RequestTarget& t) {
  OnlyParams(t, {"since", "metrics"});
  const int64_t since = CountParam(t, "since", 0);
  std::vector<std::string> metrics;
  const auto m = t.query.find("metrics");
  const std::string list = m == t.query.end() ? "val_ce" : m->second;
  for (size_t start = 0; start <= list.size();) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    if (!IsEvalMetric(name))
      throw HttpError(400, "unknown metric '" + name.substr(0, 64) +
                               "' in metrics: val_ce, train_ce, lr, grad_norm, tokens, wall_s "
                               "or extra.KEY");
    if (std::find(metrics.begin(), metrics.end(), name) == metrics.end()) metrics.push_back(name);
    start = comma + 1;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (since > stamp_)
    throw HttpError(400, "since " + std::to_string(since) + " is ahead of this server's cursor " +
                             std::to_string(stamp_) + ": pass a cursor it gave, or 0");
  std::unique_ptr<SweepFeed>& feed = feeds_[id];
  if (!feed) feed = std::make_unique<SweepFeed>(id);
  if (!feed->Refresh(store_, ++stamp_)) {
    feeds_.erase(id);
    throw HttpError(404, "no sweep " + std::to_string(id) + " in store " + path_);
  }
  json sweep;
  for (const json& o : Overviews())
    if (o["id"] == id) sweep = o;
  return feed->View(store_, since, metrics, stamp_, sweep.dump());
}

std::string Dashboard::SearchPage(int64_t id) {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const json& o : Overviews())
      if (o["id"] == id && o["search"] == true) name = o["name"];
  }
  if (name.empty())
    throw HttpError(404, "no search " + std::to_string(id) + " in store " + path_);
  return SearchReport(path_, name, "html");  // hrm report search's page, as the store is now
}

json Dashboard::RunView(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<RunRow> run = store_.GetRun(run_id);
  if (!run) throw HttpError(404, "no run " + run_id + " in store " + path_);
  json sweeps = json::array();
  for (const SweepRow& s : store_.SweepsOfRun(run_id))
    sweeps.push_back({{"id", s.id}, {"name", s.name}});
  json events = json::array();
  for (const RunEventRow& e : store_.RunEvents(run_id))
    events.push_back({{"event", e.event},
                      {"step", e.step ? json(*e.step) : json()},
                      {"time", e.time},
                      {"body", e.body}});
  json measurements = json::array();
  for (const MeasurementRow& m : store_.Measurements(run_id))
    measurements.push_back(
        {{"metric", m.metric}, {"value", m.value ? json(*m.value) : json()}, {"extra", m.extra}});
  const std::string id = ShellQuote(run_id), store = ShellQuote(path_);
  return {{"run",
           {{"id", run->id},
            {"model", run->model},
            {"kind", run->kind},
            {"status", ToString(run->status)},
            {"attempts", run->attempts},
            {"step", run->step ? json(*run->step) : json()},
            {"run_dir", run->run_dir},
            {"error", run->error},
            {"runner_pid", run->runner_pid ? json(*run->runner_pid) : json()},
            {"runner_host", run->runner_host},
            {"created_at", run->created_at},
            {"started_at", run->started_at},
            {"finished_at", run->finished_at},
            {"updated_at", run->updated_at},
            {"config", run->config},
            {"provenance", run->provenance}}},
          {"sweeps", sweeps},
          {"events", events},
          {"measurements", measurements},
          {"commands",
           {{"generate", "hrm generate " + id + " --store " + store + " --prompt 'Once upon'"},
            {"export",
             "hrm export " + id + " --store " + store + " --out " + ShellQuote(run_id + "-export")},
            {"reproduce", "hrm reproduce " + id + " --store " + store}}}};
}

json Dashboard::RunEvals(const std::string& run_id, const RequestTarget& t) {
  OnlyParams(t, {"since"});
  const bool all = !t.query.count("since");
  const int64_t since = CountParam(t, "since", 0);
  std::lock_guard<std::mutex> lock(mu_);
  if (!store_.GetRun(run_id)) throw HttpError(404, "no run " + run_id + " in store " + path_);
  const std::vector<EvalRow> rows = store_.EvalsAfter(run_id, all ? -1 : since);
  // Columns: the store's, then every number in extra; array-valued extra
  // (HRM's per-step trace) is sent for the last row only.
  std::vector<std::string> metrics = {"val_ce", "train_ce", "lr", "grad_norm", "tokens", "wall_s"};
  std::set<std::string> extra;
  json trace = json::object();
  for (const EvalRow& e : rows)
    for (auto it = e.extra.begin(); e.extra.is_object() && it != e.extra.end(); ++it) {
      if (it->is_number()) extra.insert("extra." + it.key());
      if (it->is_array()) trace[it.key()] = *it;
    }
  metrics.insert(metrics.end(), extra.begin(), extra.end());
  json cols = json::object();
  json& steps = cols["step"] = json::array();
  for (const EvalRow& e : rows) steps.push_back(e.step);
  for (const auto& m : metrics) {
    json& col = cols[m] = json::array();
    for (const EvalRow& e : rows) {
      auto v = EvalMetric(e, m);
      col.push_back(v ? json(*v) : json());
    }
  }
  return {{"run_id", run_id},
          {"since", all ? json() : json(since)},
          {"last_step", rows.empty() ? (all ? json() : json(since)) : json(rows.back().step)},
          {"metrics", metrics},
          {"evals", cols},
          {"trace", trace}};
}

}  // namespace hrm
