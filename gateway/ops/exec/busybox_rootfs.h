// A busybox root filesystem for tests that run real containers, like the
// reference image (shared/reference/mkbusybox.sh): Debian's busybox-static
// with a link per applet, /etc/passwd (root, nobody), /etc/group (root,
// staff with nobody, nogroup) and a 1777 /tmp.
#ifndef KILN_GATEWAY_OPS_EXEC_BUSYBOX_ROOTFS_H_
#define KILN_GATEWAY_OPS_EXEC_BUSYBOX_ROOTFS_H_

#include <string>

namespace kiln::exec {

// Whether this machine can run the container tests: root, /bin/busybox and
// runc on PATH. Otherwise a sentence saying what is missing.
std::string WhyNoContainers();

// Creates the root filesystem in `dir` and returns `dir`.
std::string MakeBusyboxRootfs(const std::string& dir);

}  // namespace kiln::exec

#endif  // KILN_GATEWAY_OPS_EXEC_BUSYBOX_ROOTFS_H_
