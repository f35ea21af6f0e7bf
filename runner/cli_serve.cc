// `hrm serve`: the live dashboard (serve/). Opens the store read-only, binds
// to 127.0.0.1 unless --host says otherwise, and answers until killed.
#include <arpa/inet.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "runner/cli.h"
#include "runner/cli_errors.h"
#include "runner/cli_run.h"
#include "serve/dashboard.h"

namespace hrm {
namespace {

struct ServeOptions {
  std::string store;
  std::string host = "127.0.0.1";
  int port = 8080;
};

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

// An IPv4 or IPv6 literal, or localhost: what --host accepts.
bool IsAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return host == "localhost" || inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

int RunServe(const ServeOptions& o) {
  if (!std::filesystem::exists(o.store))
    throw UsageError(o.store + ": no such store (pass --store FILE or set HRM_STORE)");
  if (!IsAddress(o.host)) throw UsageError("--host: " + o.host + " is not an IP address");
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
  AddStoreOption(cmd, &o->store);
  cmd->add_option("--port", o->port, "TCP port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--host", o->host, "address to listen on; anything but loopback is public")
      ->capture_default_str();
  cmd->callback([o, rc] { Guard("serve", rc, [&] { return RunServe(*o); }); });
}

}  // namespace hrm
