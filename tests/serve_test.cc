// `hrm serve` end to end: the real binary on a free port over a real store,
// real HTTP requests (every endpoint, and the requests it must refuse), and
// headless Chromium watching a sweep page while a real `hrm sweep` runs, is
// killed with -9 and restarted.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "base/sha256.h"
#include "store/run_store.h"
#include "tests/store_test_util.h"

extern char** environ;

namespace hrm {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing::ReadFile;
using testing::TempDir;

// ---- processes ----

pid_t Spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0) << args[0];
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Kill(pid_t pid) {
  ::kill(pid, SIGKILL);
  Wait(pid);
}

// Waits until `path` has a match of `pattern`; returns its first group.
std::string WaitForMatch(const std::string& path, const std::string& pattern, double seconds) {
  const std::regex re(pattern);
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    std::smatch m;
    const std::string text = ReadFile(path);
    if (std::regex_search(text, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no match of " << pattern << " in " << path << " within " << seconds << " s:\n"
                << ReadFile(path);
  return "";
}

// `hrm serve` on a free port; stopped with the test.
class Server {
 public:
  Server(const std::string& store, const std::string& dir) : log_(dir + "/serve.log") {
    pid_ = Spawn({HRM_BINARY, "serve", "--store", store, "--port", "0"}, log_, log_);
    port_ = std::stoi("0" + WaitForMatch(log_, "http://127\\.0\\.0\\.1:(\\d+)/", 30));
  }
  ~Server() { Kill(pid_); }
  int port() const { return port_; }
  bool Alive() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  std::string log_;
  pid_t pid_ = 0;
  int port_ = 0;
};

// ---- HTTP ----

struct Answer {
  int status = 0;
  std::string body;
  http::response<http::string_body> raw;
  json Json() const { return json::parse(body); }
};

Answer Request(int port, const std::string& target, http::verb method = http::verb::get,
               const std::string& if_none_match = "") {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!if_none_match.empty()) req.set(http::field::if_none_match, if_none_match);
  req.keep_alive(false);
  req.prepare_payload();
  http::write(socket, req);
  beast::flat_buffer buffer;
  Answer a;
  http::read(socket, buffer, a.raw);
  a.status = a.raw.result_int();
  a.body = a.raw.body();
  return a;
}

Answer Get(int port, const std::string& target) { return Request(port, target); }

// Bytes as sent, for requests a well-behaved client cannot make.
std::string RawRequest(int port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(socket, asio::buffer(bytes));
  std::string out;
  beast::error_code ec;
  char buf[4096];
  for (size_t n; (n = socket.read_some(asio::buffer(buf), ec)) > 0 && !ec;) out.append(buf, n);
  return out;
}

// ---- a store with known rows, written as the runner writes ----

class DashboardStore {
 public:
  DashboardStore() : path_(dir_ / "hrm.db"), store_(RunStore::Open(path_)) {}
  const std::string& path() const { return path_; }
  std::string Dir() const { return dir_ / ""; }
  RunStore& store() { return *store_; }

  int64_t Sweep(const std::string& name, const std::vector<json>& configs) {
    const int64_t id =
        store_->UpsertSweep({name, "/repo/grids/" + name + ".yaml", "x", "mini", {}});
    std::vector<RunStore::SweepEntry> entries;
    for (const json& c : configs) {
      const std::string run_id = Sha256Hex(c.dump()).substr(0, 12);
      entries.push_back({{run_id, c, "train", "/runs/" + run_id},
                         c.value("label", run_id),
                         int64_t(entries.size())});
      ids_.push_back(run_id);
    }
    store_->AddRunsToSweep(id, entries);
    return id;
  }
  const std::vector<std::string>& ids() const { return ids_; }

  void Eval(const std::string& run, int64_t step, double val_ce, const json& extra = nullptr) {
    SQLite::Statement q(store_->db(),
                        "INSERT INTO evals (run_id, step, val_ce, train_ce, lr, grad_norm, "
                        "extra) VALUES (?, ?, ?, ?, 0.001, 1.5, ?)");
    q.bind(1, run);
    q.bind(2, step);
    q.bind(3, val_ce);
    q.bind(4, val_ce + 0.1);
    if (extra.is_null())
      q.bind(5);
    else
      q.bind(5, extra.dump());
    q.exec();
    SQLite::Statement s(store_->db(), "UPDATE runs SET step = ? WHERE id = ?");
    s.bind(1, step);
    s.bind(2, run);
    s.exec();
  }

 private:
  TempDir dir_;
  std::string path_;
  std::unique_ptr<RunStore> store_;
  std::vector<std::string> ids_;
};

json Cfg(const std::string& model, int seed, double lr) {
  return {{"model", model}, {"seed", seed}, {"lr", lr},
          {"steps", 100},   {"d", 32},      {"label", model + " seed " + std::to_string(seed)}};
}

// The store's rows, to show that serving changed none of them.
std::vector<std::string> AllRows(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::vector<std::string> rows;
  for (const char* table : {"sweeps", "runs", "sweep_runs", "evals", "meta"})
    for (auto& r : testing::Rows(db, std::string("SELECT * FROM ") + table))
      rows.push_back(table + std::string(": ") + r);
  return rows;
}

TEST(ServeApi, EveryEndpointAnswersFromTheStoreAndUpdatesSendOnlyNewRows) {
  DashboardStore s;
  const int64_t sweep = s.Sweep(
      "equal_param@mini", {Cfg("hrm", 0, 1e-3), Cfg("hrm", 1, 1e-3), Cfg("transformer", 0, 3e-3)});
  const auto& ids = s.ids();
  s.store().MarkRunning(ids[0], 42, "host");
  s.store().SetRunStatus(ids[2], RunStatus::kDone);
  s.Eval(ids[0], 0, 9.0, {{"gate_L_mean", 0.25}, {"gate_L_steps", {0.1, 0.2}}});
  s.Eval(ids[0], 50, 6.0, {{"gate_L_mean", 0.3}, {"gate_L_steps", {0.2, 0.4}}});
  s.Eval(ids[2], 100, 5.5);
  const std::vector<std::string> before = AllRows(s.path());
  Server server(s.path(), s.Dir());
  const int port = server.port();

  const Answer sweeps = Get(port, "/api/sweeps");
  ASSERT_EQ(sweeps.status, 200) << sweeps.body;
  const json list = sweeps.Json()["sweeps"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "equal_param@mini");
  EXPECT_EQ(list[0]["total"], 3);
  EXPECT_EQ(list[0]["counts"]["running"], 1);
  EXPECT_EQ(list[0]["counts"]["done"], 1);
  EXPECT_EQ(list[0]["counts"]["pending"], 1);
  EXPECT_EQ(list[0]["steps_total"], 300);
  EXPECT_EQ(list[0]["steps_done"], 150);  // run 0 at step 50, run 2 done (100)
  EXPECT_DOUBLE_EQ(list[0]["progress"].get<double>(), 0.5);
  // Unchanged: the ETag says so and nothing is re-sent.
  const std::string etag = std::string(sweeps.raw[http::field::etag]);
  ASSERT_FALSE(etag.empty());
  const Answer again = Request(port, "/api/sweeps", http::verb::get, etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());

  const std::string view_url = "/api/sweeps/" + std::to_string(sweep);
  const json first = Get(port, view_url + "?since=0&metrics=val_ce,extra.gate_L_mean").Json();
  EXPECT_TRUE(first["reset"].get<bool>());
  EXPECT_EQ(first["runs"].size(), 3u);
  EXPECT_EQ(first["keys"], json({"label", "lr", "model", "seed"}));
  EXPECT_EQ(first["sweep"]["name"], "equal_param@mini");
  EXPECT_NE(std::find(first["metrics"].begin(), first["metrics"].end(), "extra.gate_L_mean"),
            first["metrics"].end());
  EXPECT_EQ(first["evals"][ids[0]]["step"], json({0, 50}));
  EXPECT_EQ(first["evals"][ids[0]]["val_ce"], json({9.0, 6.0}));
  EXPECT_EQ(first["evals"][ids[0]]["extra.gate_L_mean"], json({0.25, 0.3}));
  EXPECT_EQ(first["evals"][ids[2]]["extra.gate_L_mean"], json({nullptr}));
  EXPECT_FALSE(first["evals"].contains(ids[1]));  // no rows yet
  EXPECT_EQ(first["runs"][0]["status"], "running");
  EXPECT_EQ(first["runs"][0]["best_val_ce"], 6.0);
  EXPECT_EQ(first["runs"][2]["last_val_ce"], 5.5);

  // Nothing new: nothing sent.
  const int64_t cursor = first["cursor"];
  const json idle = Get(port, view_url + "?since=" + std::to_string(cursor)).Json();
  EXPECT_FALSE(idle["reset"].get<bool>());
  EXPECT_TRUE(idle["runs"].empty());
  EXPECT_TRUE(idle["evals"].empty());

  // The runner writes: exactly the new rows and the changed runs come back.
  s.Eval(ids[0], 100, 5.0);
  s.Eval(ids[1], 0, 9.5);
  s.store().SetRunStatus(ids[0], RunStatus::kDone);
  const json next =
      Get(port, view_url + "?since=" + std::to_string(int64_t(idle["cursor"]))).Json();
  EXPECT_FALSE(next["reset"].get<bool>());
  ASSERT_EQ(next["runs"].size(), 2u);
  EXPECT_EQ(next["runs"][0]["id"], ids[0]);
  EXPECT_EQ(next["runs"][0]["status"], "done");
  EXPECT_EQ(next["evals"][ids[0]]["step"], json({100}));
  EXPECT_EQ(next["evals"][ids[0]]["val_ce"], json({5.0}));
  EXPECT_EQ(next["evals"][ids[1]]["step"], json({0}));
  EXPECT_FALSE(next["evals"].contains(ids[2]));

  // The store vacuumed under the server: same answers, nothing re-sent.
  s.store().db().exec("VACUUM");
  const json after_vacuum =
      Get(port, view_url + "?since=" + std::to_string(int64_t(next["cursor"]))).Json();
  EXPECT_FALSE(after_vacuum["reset"].get<bool>());
  EXPECT_TRUE(after_vacuum["runs"].empty());
  EXPECT_TRUE(after_vacuum["evals"].empty());
  EXPECT_EQ(Get(port, view_url + "?since=0").Json()["evals"][ids[0]]["step"], json({0, 50, 100}));

  const Answer run = Get(port, "/api/runs/" + ids[0]);
  ASSERT_EQ(run.status, 200) << run.body;
  const json r = run.Json();
  EXPECT_EQ(r["run"]["config"]["model"], "hrm");
  EXPECT_EQ(r["run"]["status"], "done");
  EXPECT_EQ(r["sweeps"][0]["name"], "equal_param@mini");
  EXPECT_EQ(r["commands"]["reproduce"], "hrm reproduce " + ids[0] + " --store " + s.path());
  const json evals = Get(port, "/api/runs/" + ids[0] + "/evals?since=0").Json();
  EXPECT_EQ(evals["evals"]["step"], json({50, 100}));
  EXPECT_EQ(evals["evals"]["grad_norm"], json({1.5, 1.5}));
  EXPECT_EQ(evals["last_step"], 100);
  const json all = Get(port, "/api/runs/" + ids[0] + "/evals").Json();
  EXPECT_EQ(all["evals"]["step"], json({0, 50, 100}));
  EXPECT_EQ(all["trace"]["gate_L_steps"], json({0.2, 0.4}));
  EXPECT_TRUE(
      Get(port, "/api/runs/" + ids[0] + "/evals?since=100").Json()["evals"]["step"].empty());

  // The pages, the chart library (compiled in) and the paper's tables.
  for (const std::string& page : std::vector<std::string>{"/", "/sweeps/1", "/runs/" + ids[0]}) {
    const Answer a = Get(port, page);
    EXPECT_EQ(a.status, 200) << page;
    EXPECT_NE(a.body.find("<script src=\"/static/uPlot.min.js\">"), std::string::npos) << page;
  }
  const Answer uplot = Get(port, "/static/uPlot.min.js");
  EXPECT_EQ(uplot.status, 200);
  EXPECT_NE(uplot.body.find("uPlot"), std::string::npos);
  EXPECT_EQ(std::string(uplot.raw[http::field::content_type]), "text/javascript; charset=utf-8");
  EXPECT_EQ(Get(port, "/static/app.js").status, 200);
  EXPECT_EQ(Get(port, "/static/style.css").status, 200);
  const Answer report = Get(port, "/report");
  EXPECT_EQ(report.status, 200);
  EXPECT_NE(report.body.find("Table 6: EqualParam"), std::string::npos);
  EXPECT_NE(report.body.find("<table>"), std::string::npos);

  EXPECT_EQ(AllRows(s.path()).size(), before.size() + 2);  // the two evaluations added above
  EXPECT_TRUE(server.Alive());
}

TEST(ServeApi, BadRequestsGetA4xxWithAMessageAndWriteNothing) {
  DashboardStore s;
  s.Sweep("tiny", {Cfg("hrm", 0, 1e-3)});
  s.Eval(s.ids()[0], 0, 9.0);
  const std::vector<std::string> before = AllRows(s.path());
  Server server(s.path(), s.Dir());
  const int port = server.port();
  const std::string run = s.ids()[0];
  struct Case {
    std::string target;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"/static/../../etc/passwd", 400, "path traversal"},
      {"/static/%2e%2e/%2e%2e/etc/passwd", 400, "path traversal"},
      {"/api/runs/..%2F..%2Fetc%2Fpasswd", 400, "encoded '/'"},
      {"/api/runs/x'%3B%20DROP%20TABLE%20runs%3B--", 400, "bad run id"},
      {"/api/runs/abcdef012345", 404, "no run abcdef012345"},
      {"/api/runs/abcdef012345/evals", 404, "no run abcdef012345"},
      {"/api/sweeps/abc", 400, "bad sweep id"},
      {"/api/sweeps/99999999999999999999", 400, "bad sweep id"},
      {"/api/sweeps/999", 404, "no sweep 999"},
      {"/api/sweeps/1?since=-1", 400, "since must be a whole number"},
      {"/api/sweeps/1?since=1e3", 400, "since must be a whole number"},
      {"/api/sweeps/1?since=99999999999999999999999999", 400, "since must be a whole number"},
      {"/api/sweeps/1?since=9007199254740992", 400, "ahead of this server's cursor"},
      {"/api/sweeps/1?since=0&since=1", 400, "given twice"},
      {"/api/sweeps/1?metrics=val_ce%3BDROP%20TABLE%20evals", 400, "unknown metric"},
      {"/api/sweeps/1?metrics=", 400, "unknown metric"},
      {"/api/sweeps/1?sort=1", 400, "unknown query parameter 'sort'"},
      {"/api/runs/" + run + "/evals?since=9007199254740993", 400, "since must be"},
      {"/api/runs/" + run + "?x=1", 400, "unknown query parameter"},
      {"/api/nothing", 404, "no such page"},
      {"/static/secret.txt", 404, "no such file"},
      {"/sweeps/x", 400, "bad sweep id"},
  };
  for (const Case& c : cases) {
    const Answer a = Get(port, c.target);
    EXPECT_EQ(a.status, c.status) << c.target << ": " << a.body;
    EXPECT_NE(a.Json()["error"].get<std::string>().find(c.message), std::string::npos)
        << c.target << ": " << a.body;
  }
  for (http::verb verb :
       {http::verb::post, http::verb::put, http::verb::delete_, http::verb::patch}) {
    const Answer a = Request(port, "/api/runs/" + run, verb);
    EXPECT_EQ(a.status, 405) << a.body;
    EXPECT_EQ(std::string(a.raw[http::field::allow]), "GET");
    EXPECT_NE(a.body.find("only reads"), std::string::npos) << a.body;
  }
  EXPECT_NE(RawRequest(port, "NOT HTTP AT ALL\r\n\r\n").find("400 Bad Request"), std::string::npos);
  EXPECT_NE(RawRequest(port, "GET /api/sweeps HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n")
                .find("400 Bad Request"),
            std::string::npos);
  EXPECT_EQ(Get(port, "/api/sweeps").status, 200);  // still answering
  EXPECT_EQ(AllRows(s.path()), before);
}

// A real (tiny) successive-halving search: its sweep says it is one and has
// the search page (hrm report search's), a plain sweep has neither.
TEST(ServeSearch, ASearchSweepHasItsPageAndAPlainSweepHasNone) {
  TempDir dir;
  {
    std::ofstream(dir / "search.yaml") << R"(name: servesearch
base: {model: transformer, L: 1, d: 32, seq: 32, batch: 4, steps: 12, eval_interval: 4,
       eval_iters: 2, log_interval: 100}
search:
  sampler: random
  trials: 3
  seed: 7
  space:
    lr: {loguniform: [1.0e-3, 3.0e-2], digits: 2}
  scheduler: {type: sha, min_steps: 4, reduction_factor: 3, metric: val_ce}
)";
  }
  const std::string log = dir / "sweep.log";
  ASSERT_EQ(Wait(Spawn({HRM_BINARY, "sweep", dir / "search.yaml", "--store", dir / "hrm.db",
                        "--slots", "2", "--threads", "1"},
                       log, log)),
            0)
      << ReadFile(log);
  Server server(dir / "hrm.db", dir / "");
  const json sweeps = Get(server.port(), "/api/sweeps").Json()["sweeps"];
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0]["search"], true);
  const std::string id = sweeps[0]["id"].dump();
  EXPECT_EQ(Get(server.port(), "/api/sweeps/" + id + "?since=0").Json()["sweep"]["search"], true);
  const Answer page = Get(server.port(), "/sweeps/" + id + "/search");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Parallel coordinates"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("rung 0 (step 4)"), std::string::npos) << page.body;
  SQLite::Database db(dir / "hrm.db", SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT run_id FROM sweep_runs");
  while (q.executeStep())  // every trial has its row
    EXPECT_NE(page.body.find(q.getColumn(0).getString()), std::string::npos);
  EXPECT_EQ(Get(server.port(), "/sweeps/" + id + "/search?x=1").status, 400);
  EXPECT_EQ(Get(server.port(), "/sweeps/99/search").status, 404);

  DashboardStore plain;
  const int64_t sweep = plain.Sweep("equal_param@mini", {Cfg("hrm", 0, 1e-3)});
  Server other(plain.path(), plain.Dir());
  EXPECT_EQ(Get(other.port(), "/api/sweeps").Json()["sweeps"][0]["search"], false);
  const Answer none = Get(other.port(), "/sweeps/" + std::to_string(sweep) + "/search");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("no search"), std::string::npos) << none.body;
}

TEST(ServeStart, AMissingOrForeignStoreOrABusyPortIsAClearError) {
  TempDir dir;
  const std::string log = dir / "serve.log";
  auto serve = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {HRM_BINARY, "serve"};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(extra.begin(), extra.end(), "--port") == extra.end())
      args.insert(args.end(), {"--port", "0"});
    std::ofstream(log, std::ios::trunc).close();
    return Wait(Spawn(args, log, log));
  };
  EXPECT_EQ(serve({"--store", dir / "missing.db"}), 2);
  EXPECT_NE(ReadFile(log).find(dir / "missing.db" + ": no such store"), std::string::npos)
      << ReadFile(log);
  EXPECT_FALSE(fs::exists(dir / "missing.db"));  // and nothing created
  {
    SQLite::Database other(dir / "other.db", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE t (x)");
  }
  EXPECT_EQ(serve({"--store", dir / "other.db"}), 1);  // not a store: a runtime error
  EXPECT_NE(ReadFile(log).find("not an hrm store"), std::string::npos) << ReadFile(log);

  DashboardStore s;
  Server first(s.path(), s.Dir());
  EXPECT_EQ(serve({"--store", s.path(), "--port", std::to_string(first.port())}), 1);
  EXPECT_NE(ReadFile(log).find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << ReadFile(log);
  // Listening beyond this machine works, and says so loudly.
  std::ofstream(log, std::ios::trunc).close();
  const pid_t open = Spawn(
      {HRM_BINARY, "serve", "--store", s.path(), "--host", "0.0.0.0", "--port", "0"}, log, log);
  const std::string port = WaitForMatch(log, "http://0\\.0\\.0\\.0:(\\d+)/", 30);
  EXPECT_NE(ReadFile(log).find("WARNING: listening on 0.0.0.0"), std::string::npos)
      << ReadFile(log);
  EXPECT_EQ(Get(std::stoi("0" + port), "/api/sweeps").status, 200);
  Kill(open);
  EXPECT_EQ(serve({"--store", s.path(), "--host", "not-an-address"}), 2);
  EXPECT_NE(ReadFile(log).find("not an IP address"), std::string::npos) << ReadFile(log);
}

// ---- headless Chromium over the DevTools protocol ----

// A page of a headless Chromium, driven over its DevTools WebSocket: the test
// reads the live DOM as often as it likes without reloading the page.
class Browser {
 public:
  Browser(const std::string& url, const std::string& dir) : log_(dir + "/chromium.log") {
    pid_ = Spawn({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1400,1000",
                  "--user-data-dir=" + dir + "/chromium-profile", "--enable-logging=stderr",
                  "--v=0", "--remote-debugging-port=0", url},
                 dir + "/chromium.out", log_);
    const std::string port =
        WaitForMatch(log_, "DevTools listening on ws://127\\.0\\.0\\.1:(\\d+)/", 60);
    port_ = std::stoi("0" + port);
    // The page's own WebSocket endpoint.
    std::string ws;
    for (int i = 0; i < 100 && ws.empty(); ++i) {
      for (const json& t : json::parse(Get(port_, "/json/list").body))
        if (t["type"] == "page") ws = t["webSocketDebuggerUrl"];
      if (ws.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const std::string path = ws.substr(ws.find('/', std::string("ws://").size()));
    socket_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    socket_.handshake("127.0.0.1:" + std::to_string(port_), path);
  }
  ~Browser() { Kill(pid_); }

  // A DevTools command's result.
  json Call(const std::string& method, const json& params = json::object()) {
    const int id = ++id_;
    socket_.write(asio::buffer(json{{"id", id}, {"method", method}, {"params", params}}.dump()));
    for (;;) {
      beast::flat_buffer buffer;
      socket_.read(buffer);
      const json m = json::parse(beast::buffers_to_string(buffer.data()));
      if (m.value("id", 0) == id) return m.contains("result") ? m["result"] : m;
    }
  }
  // The value of a JavaScript expression in the page.
  json Eval(const std::string& expression) {
    return Call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}})["result"]
        .value("value", json());
  }
  // Console messages Chromium logged (errors, warnings, failed loads).
  std::vector<std::string> Console() const {
    std::vector<std::string> out;
    std::istringstream lines(ReadFile(log_));
    for (std::string line; std::getline(lines, line);)
      if (std::regex_search(line, std::regex(":CONSOLE[:(]"))) out.push_back(line);
    return out;
  }

 private:
  std::string log_;
  pid_t pid_ = 0;
  int port_ = 0;
  int id_ = 0;
  asio::io_context io_;
  beast::websocket::stream<tcp::socket> socket_{io_};
};

const char* kLiveGrid = R"(name: servetest
base: {d: 32, seq: 32, batch: 4, steps: 300, eval_interval: 10, eval_iters: 1, lr: 3.0e-3,
       warmup: 4, log_interval: 1000}
runs:
  - {label: "HRM", model: hrm, N: 2, T: 2, K: 2}
  - {label: "T-L2", model: transformer, L: 2}
  - {label: "UniTF", model: unitf, M: 3, K: 1}
)";

int64_t Points(Browser& b) {
  const json v = b.Eval("(document.getElementById('points') || {}).textContent");
  return v.is_string() && !v.get<std::string>().empty() ? std::stoll(v.get<std::string>()) : -1;
}

// Waits until the page shows more than `than` points; returns how many.
int64_t WaitForMorePoints(Browser& b, int64_t than, double seconds) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  int64_t now = -1;
  while (Clock::now() < until) {
    if ((now = Points(b)) > than) return now;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "the page stayed at " << now << " points (wanted more than " << than << ")";
  return now;
}

TEST(ServeLive, SweepPageGrowsWithoutReloadWhileTheRunnerIsKilledAndRestarted) {
  ASSERT_EQ(std::system("command -v chromium > /dev/null 2>&1"), 0)
      << "chromium not installed: make deps installs it";
  TempDir dir;
  const std::string grid = dir / "grid.yaml", store = dir / "hrm.db";
  std::ofstream(grid) << kLiveGrid;
  const std::vector<std::string> sweep = {HRM_BINARY, "sweep", grid,        "--store", store,
                                          "--slots",  "1",     "--threads", "1"};
  pid_t runner = Spawn(sweep, dir / "sweep.out", dir / "sweep.log");
  // The dashboard opens the store once the runner has recorded the sweep.
  auto sweeps = [&]() -> int64_t {
    try {
      SQLite::Database db(store, SQLite::OPEN_READONLY);
      return db.execAndGet("SELECT count(*) FROM sweeps").getInt64();
    } catch (const std::exception&) {
      return 0;
    }
  };
  for (int i = 0; i < 1200 && sweeps() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(sweeps(), 1) << ReadFile(dir / "sweep.log");
  Server server(store, dir / "");
  Browser browser("http://127.0.0.1:" + std::to_string(server.port()) + "/sweeps/1", dir / "");
  const int64_t p1 = WaitForMorePoints(browser, 0, 120);
  browser.Eval("window.hrmTestMarker = 1");  // gone if the page reloads
  const int64_t p2 = WaitForMorePoints(browser, p1, 120);
  // The runner dies mid-sweep; the server goes on answering.
  ::kill(runner, SIGKILL);
  Wait(runner);
  EXPECT_EQ(Get(server.port(), "/api/sweeps").status, 200);
  EXPECT_EQ(Get(server.port(), "/api/sweeps/1?since=0").status, 200);
  runner = Spawn(sweep, dir / "sweep.out", dir / "sweep.log");
  const int64_t p3 = WaitForMorePoints(browser, Points(browser), 180);
  EXPECT_GT(p3, p2);
  if (const char* shot = std::getenv("HRM_SERVE_SCREENSHOT")) {  // base64 PNG, mid-sweep
    const json png = browser.Call("Page.captureScreenshot", {{"format", "png"}});
    std::ofstream(shot, std::ios::binary) << png.value("data", "");
  }
  EXPECT_EQ(Wait(runner), 0) << ReadFile(dir / "sweep.log");
  // The finished sweep: every eval of every run plotted, still the same page.
  const int64_t all = SQLite::Database(store, SQLite::OPEN_READONLY)
                          .execAndGet("SELECT count(*) FROM evals WHERE val_ce IS NOT NULL")
                          .getInt64();
  const auto until = Clock::now() + std::chrono::seconds(30);
  while (Points(browser) < all && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Points(browser), all);
  EXPECT_EQ(browser.Eval("window.hrmTestMarker"), 1);
  EXPECT_EQ(browser.Eval("document.querySelectorAll('#runs tbody tr').length"), 3);
  EXPECT_EQ(browser.Eval("document.querySelectorAll('.uplot').length"), 1);
  // The HRM run's page: its curves and the step trace of its last evaluation.
  const json view = Get(server.port(), "/api/sweeps/1?since=0").Json();
  ASSERT_EQ(view["runs"][0]["label"], "HRM");
  const std::string hrm_run = view["runs"][0]["id"];
  browser.Call("Page.navigate",
               {{"url", "http://127.0.0.1:" + std::to_string(server.port()) + "/runs/" + hrm_run}});
  const auto loaded = Clock::now() + std::chrono::seconds(30);
  while (browser.Eval("document.querySelectorAll('.uplot').length") < 3 && Clock::now() < loaded)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GE(browser.Eval("document.querySelectorAll('.uplot').length"), 3);  // CE, lr, grad norm
  EXPECT_GE(browser.Eval("document.querySelectorAll('table').length"), 2);   // trace, history
  EXPECT_NE(browser.Eval("document.body.innerText").get<std::string>().find("gate_L_steps"),
            std::string::npos);
  const std::vector<std::string> console = browser.Console();
  EXPECT_TRUE(console.empty()) << console.front();
  EXPECT_TRUE(server.Alive());
}

}  // namespace
}  // namespace hrm
