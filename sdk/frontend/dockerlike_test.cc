#include "sdk/frontend/dockerlike.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::frontend {
namespace {

using Ports = std::vector<std::string>;

TEST(ParsePortSpecTest, ContainerPortsRangesAndProtocols) {
  struct Case {
    std::string spec;
    Ports ports;
    bool host;
  };
  for (const Case& c : {
           Case{"80", {"80/tcp"}, false},
           Case{"53/udp", {"53/udp"}, false},
           Case{"80/TCP", {"80/tcp"}, false},
           Case{"8000-8002/sctp", {"8000/sctp", "8001/sctp", "8002/sctp"}, false},
           Case{"0", {"0/tcp"}, false},
           Case{"65535", {"65535/tcp"}, false},
           // Host mappings: only the container port is exposed.
           Case{"8080:80", {"80/tcp"}, true},
           Case{"127.0.0.1:8080:80/udp", {"80/udp"}, true},
           Case{"127.0.0.1::80", {"80/tcp"}, true},
           Case{"[::1]:8080:80", {"80/tcp"}, true},
           Case{"::1:8080:80", {"80/tcp"}, true},
           Case{"9000-9001:90-91", {"90/tcp", "91/tcp"}, true},
       }) {
    absl::StatusOr<PortSpec> p = ParsePortSpec(c.spec);
    ASSERT_TRUE(p.ok()) << c.spec << ": " << p.status();
    EXPECT_EQ(p->ports, c.ports) << c.spec;
    EXPECT_EQ(p->host_mapping, c.host) << c.spec;
  }
}

TEST(ParsePortSpecTest, ErrorsInDockersWords) {
  struct Case {
    std::string spec, error;
  };
  for (const Case& c : {
           Case{"", "invalid containerPort: "},
           Case{"http", "invalid containerPort: http"},
           Case{"65536", "invalid containerPort: 65536"},
           Case{"90-80", "invalid containerPort: 90-80"},
           Case{"-1", "invalid containerPort: -1"},
           Case{"80/icmp", "invalid proto: icmp"},
           Case{"8080:", "invalid containerPort: "},
           Case{"x:80", "invalid hostPort: x"},
           Case{"300.1.1.1:8080:80", "invalid IP address: 300.1.1.1"},
       }) {
    absl::StatusOr<PortSpec> p = ParsePortSpec(c.spec);
    ASSERT_FALSE(p.ok()) << c.spec;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.spec;
    EXPECT_EQ(p.status().message(), c.error) << c.spec;
  }
}

}  // namespace
}  // namespace kiln::frontend
