#include "netns.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "fault_harness.h"

namespace skillstore::fault {

NetnsStar::NetnsStar(int leaves) {
  ip_ = access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
  prefix_ = absl::StrCat("sf", getpid() % 100000);
  hub_ = prefix_ + "-hub";
  leaves_.push_back("");
  for (int i = 1; i <= leaves; ++i) leaves_.push_back(absl::StrCat(prefix_, "-w", i));
}

NetnsStar::~NetnsStar() {
  for (const auto& ns : created_) RunCommand(absl::StrCat(ip_, " netns del ", ns));
  // The root-side veth goes with its peer in the hub; this is a safety net.
  if (root_link_) RunCommand(absl::StrCat(ip_, " link del ", prefix_, "r 2>/dev/null"));
}

std::vector<std::string> NetnsStar::ExecPrefix(const std::string& ns) const {
  return {ip_, "netns", "exec", ns};
}

absl::Status NetnsStar::Create() {
  std::string out;
  auto run = [&](const std::string& cmd) -> absl::Status {
    if (RunCommand(cmd, &out) != 0) return absl::UnavailableError(absl::StrCat(cmd, ": ", out));
    return absl::OkStatus();
  };
  if (absl::Status s = run(absl::StrCat(ip_, " netns add ", hub_)); !s.ok()) return s;
  created_.push_back(hub_);
  const std::string in_hub = absl::StrCat(ip_, " -n ", hub_, " ");
  if (absl::Status s = run(in_hub + "link set lo up"); !s.ok()) return s;

  // The test process <-> hub.
  const std::string root_if = prefix_ + "r", hub_root_if = prefix_ + "h0";
  if (absl::Status s = run(absl::StrCat(ip_, " link add ", root_if, " type veth peer name ",
                                        hub_root_if, " netns ", hub_));
      !s.ok()) {
    return s;
  }
  root_link_ = true;
  for (const std::string& cmd :
       {absl::StrCat(ip_, " addr add 10.231.0.1/24 dev ", root_if),
        absl::StrCat(ip_, " link set ", root_if, " up"),
        absl::StrCat(in_hub, "addr add 10.231.0.2/24 dev ", hub_root_if),
        absl::StrCat(in_hub, "link set ", hub_root_if, " up")}) {
    if (absl::Status s = run(cmd); !s.ok()) return s;
  }

  for (size_t i = 1; i < leaves_.size(); ++i) {
    const std::string& ns = leaves_[i];
    if (absl::Status s = run(absl::StrCat(ip_, " netns add ", ns)); !s.ok()) return s;
    created_.push_back(ns);
    const std::string leaf_if = absl::StrCat(prefix_, "w", i);
    const std::string hub_if = absl::StrCat(prefix_, "h", i);
    const std::string in_leaf = absl::StrCat(ip_, " -n ", ns, " ");
    for (const std::string& cmd :
         {in_leaf + "link set lo up",
          absl::StrCat(in_leaf, "link add ", leaf_if, " type veth peer name ", hub_if, " netns ",
                       hub_),
          absl::StrCat(in_leaf, "addr add 10.231.", i, ".2/24 dev ", leaf_if),
          absl::StrCat(in_leaf, "link set ", leaf_if, " up"),
          absl::StrCat(in_hub, "addr add 10.231.", i, ".1/24 dev ", hub_if),
          absl::StrCat(in_hub, "link set ", hub_if, " up")}) {
      if (absl::Status s = run(cmd); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status NetnsStar::Cut(int i) {
  std::string out;
  for (const std::string& cmd :
       {absl::StrCat(ip_, " -n ", leaves_[i], " link set ", prefix_, "w", i, " down"),
        absl::StrCat(ip_, " -n ", hub_, " link set ", prefix_, "h", i, " down")}) {
    if (RunCommand(cmd, &out) != 0) return absl::InternalError(absl::StrCat(cmd, ": ", out));
  }
  return absl::OkStatus();
}

absl::Status NetnsStar::Heal(int i) {
  std::string out;
  for (const std::string& cmd :
       {absl::StrCat(ip_, " -n ", hub_, " link set ", prefix_, "h", i, " up"),
        absl::StrCat(ip_, " -n ", leaves_[i], " link set ", prefix_, "w", i, " up")}) {
    if (RunCommand(cmd, &out) != 0) return absl::InternalError(absl::StrCat(cmd, ": ", out));
  }
  return absl::OkStatus();
}

}  // namespace skillstore::fault
