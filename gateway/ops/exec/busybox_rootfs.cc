#include "gateway/ops/exec/busybox_rootfs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kiln::exec {
namespace {

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// The output of `command`.
std::string Output(const char* command) {
  std::string out;
  FILE* f = popen(command, "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

}  // namespace

std::string WhyNoContainers() {
  if (geteuid() != 0) return "container tests need root";
  if (access("/bin/busybox", X_OK) != 0)
    return "needs /bin/busybox (apt-get install busybox-static)";
  if (system("command -v runc >/dev/null 2>&1") != 0) return "needs runc (apt-get install runc)";
  return "";
}

std::string MakeBusyboxRootfs(const std::string& dir) {
  for (const char* d : {"", "/bin", "/etc", "/tmp"}) mkdir((dir + d).c_str(), 0755);
  chmod((dir + "/tmp").c_str(), 01777);
  std::ifstream in("/bin/busybox", std::ios::binary);
  std::stringstream bin;
  bin << in.rdbuf();
  WriteFile(dir + "/bin/busybox", bin.str());
  chmod((dir + "/bin/busybox").c_str(), 0755);
  std::istringstream applets(Output("/bin/busybox --list"));
  for (std::string applet; std::getline(applets, applet);) {
    if (!applet.empty() && applet != "busybox") {
      symlink("busybox", (dir + "/bin/" + applet).c_str());
    }
  }
  WriteFile(dir + "/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  WriteFile(dir + "/etc/group", "root:x:0:\nstaff:x:50:nobody\nnogroup:x:65534:\n");
  return dir;
}

}  // namespace kiln::exec
