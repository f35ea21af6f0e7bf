#include "store/store_lock.h"

#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/event_log.h"

namespace hrm {
namespace {

std::string HostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// The holder's record; an empty holder if the text is missing or torn (the
// holder is between taking the lock and writing it).
LockHolder ParseHolder(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  LockHolder h;
  if (j.is_object()) {
    h.pid = j.value("pid", int64_t(0));
    h.host = j.value("host", "");
    h.since = j.value("since", "");
  }
  return h;
}

}  // namespace

std::string StoreLock::LockPath(const std::string& db_path) { return db_path + ".lock"; }

std::unique_ptr<StoreLock> StoreLock::Acquire(const std::string& db_path) {
  const std::string path = LockPath(db_path);
  const std::string me =
      nlohmann::json{{"pid", int64_t(::getpid())}, {"host", HostName()}, {"since", UtcNow()}}
          .dump() +
      "\n";
  try {
    // A few quick retries let a `hrm status` probe (Holder) pass.
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (auto lock = FileLock::TryAcquire(path, me))
        return std::unique_ptr<StoreLock>(new StoreLock(std::move(lock)));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (const std::runtime_error& e) {  // the file cannot be opened or written
    throw StoreError(std::string("the store's lock: ") + e.what());
  }
  LockHolder holder = ParseHolder(FileLock::Holder(path));
  const std::string who = holder.pid > 0
                              ? "pid " + std::to_string(holder.pid) + " on host " + holder.host +
                                    (holder.since.empty() ? "" : " since " + holder.since)
                              : "a process that has not yet written its pid";
  throw StoreInUse(
      "store " + db_path + " is in use by " + who + " (another hrm runner; lock file " + path + ")",
      std::move(holder));
}

std::optional<LockHolder> StoreLock::Holder(const std::string& db_path) {
  const std::string path = LockPath(db_path);
  if (!FileLock::IsHeld(path)) return std::nullopt;
  return ParseHolder(FileLock::Holder(path));
}

}  // namespace hrm
