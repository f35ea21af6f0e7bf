// Dashboard: every route of `hrm serve` — the pages, their assets, the JSON
// API and the paper's tables — over one read-only StoreReader. It never
// writes: the store is opened read-only and no route changes anything.
// Requests may come from several connection threads; the store and the
// sweep feeds are used under one mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "serve/http_server.h"
#include "serve/request_target.h"
#include "serve/sweep_feed.h"
#include "store/store_reader.h"

namespace hrm {

class Dashboard {
 public:
  // Opens the store; throws StoreError when it is missing or not an hrm store.
  explicit Dashboard(const std::string& store_path);

  // Answers one request; errors are JSON {"error": "..."} with a 4xx status
  // (5xx when the store cannot be read).
  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse Route(const HttpRequest& request, const RequestTarget& target);
  nlohmann::json Sweeps();
  std::string SweepView(int64_t id, const RequestTarget& target);  // JSON text
  // A search sweep's trials, rung decisions, parallel coordinates and scatter
  // plots: `hrm report search`'s HTML page (404 for a sweep that is no search).
  std::string SearchPage(int64_t id);
  nlohmann::json RunView(const std::string& run_id);
  nlohmann::json RunEvals(const std::string& run_id, const RequestTarget& target);
  nlohmann::json& Overviews();  // every sweep's overview, re-read when the store changed

  std::string path_;
  std::mutex mu_;  // guards everything below
  StoreReader store_;
  int64_t stamp_;  // the last cursor value handed out
  std::map<int64_t, std::unique_ptr<SweepFeed>> feeds_;
  int64_t overview_version_ = -1;
  nlohmann::json overviews_;
};

}  // namespace hrm
