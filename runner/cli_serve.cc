// `hrm serve`: the live dashboard (serve/). Opens the store read-only, binds
// to 127.0.0.1 unless --host says otherwise, and answers until killed.
#include <iostream>
#include <memory>

#include "runner/cli.h"
#include "serve/dashboard.h"

namespace hrm {
namespace {

struct ServeOptions {
  std::string store = "runs/hrm.db";
  std::string host = "127.0.0.1";
  int port = 8080;
};

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

int RunServe(const ServeOptions& o) {
  Dashboard dashboard(o.store);  // a missing or foreign store stops here
  HttpServer server(o.host, o.port,
                    [&dashboard](const HttpRequest& r) { return dashboard.Handle(r); });
  if (!IsLoopback(o.host))
    std::cerr << "hrm serve: WARNING: listening on " << o.host
              << ", not only this machine: anyone who can reach it can read every run, config "
                 "and path in "
              << o.store << " (there is no login)\n";
  std::cout << "hrm serve: http://"
            << (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) << ":"
            << server.port() << "/ (store " << o.store << ", read-only; Ctrl-C stops)" << std::endl;
  server.Run();
  return kExitOk;
}

}  // namespace

void RegisterServeCommands(CLI::App& app, int* rc) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "a live dashboard of sweeps, runs and curves");
  cmd->add_option("--store", o->store, "store file (opened read-only)")->capture_default_str();
  cmd->add_option("--port", o->port, "TCP port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--host", o->host, "address to listen on; anything but loopback is public")
      ->capture_default_str();
  cmd->callback([o, rc] { Guard("serve", rc, [&] { return RunServe(*o); }); });
}

}  // namespace hrm
