#include "gateway/fsutil/mode.h"

#include <sys/stat.h>

#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

mode_t Apply(const char* spec, mode_t st_mode) {
  auto m = ModeSet::Parse(spec);
  EXPECT_TRUE(m.ok()) << spec << ": " << m.status();
  return m.ok() ? m->Apply(st_mode) : 0;
}

TEST(ModeSetTest, Octal) {
  EXPECT_EQ(Apply("755", S_IFREG | 0600), 0755u);
  EXPECT_EQ(Apply("0644", S_IFREG | 04777), 0644u);
  EXPECT_EQ(Apply("4755", S_IFREG | 0), 04755u);
  EXPECT_EQ(Apply("1777", S_IFDIR | 0), 01777u);
}

TEST(ModeSetTest, SymbolicTable) {
  struct Case {
    const char* spec;
    mode_t in;
    mode_t want;
  } cases[] = {
      {"u+x", S_IFREG | 0644, 0744},
      {"+x", S_IFREG | 0644, 0755},
      {"a+x", S_IFREG | 0644, 0755},
      {"go-w", S_IFREG | 0666, 0644},
      {"u=rwx,go=rx", S_IFREG | 0, 0755},
      {"u=rwx,go=u-w", S_IFREG | 0, 0755},
      {"go=", S_IFREG | 0777, 0700},
      {"=r", S_IFREG | 0777, 0444},
      {"g=u", S_IFREG | 0640, 0660},
      {"o=g", S_IFREG | 0650, 0655},
      {"g-u", S_IFREG | 0677, 0617},
      {"u+s", S_IFREG | 0755, 04755},
      {"g+s", S_IFREG | 0755, 02755},
      {"o+s", S_IFREG | 0755, 0755},  // set-id is meaningless for "other"
      {"+t", S_IFDIR | 0777, 01777},
      {"o+t", S_IFDIR | 0777, 0777},
      {"+X", S_IFREG | 0644, 0644},   // no x anywhere: unchanged
      {"+X", S_IFREG | 0744, 0755},   // some x: x for all
      {"+X", S_IFDIR | 0644, 0755},   // directories always
      {"=rX", S_IFDIR | 0700, 0444},  // X only works with '+'
      {"u+rw-x", S_IFREG | 0100, 0600},
      {"a=r,u+w", S_IFREG | 0, 0644},
      {"ug+rw,o-rwx", S_IFREG | 0007, 0660},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Apply(c.spec, c.in), c.want) << c.spec << " on " << std::oct << c.in;
  }
}

TEST(ModeSetTest, BadSyntaxIsInvalidArgument) {
  for (const char* bad : {"", "8", "0799", "77777", "u", "u+x,", "u*x", "z+x", "+x,,g+w"}) {
    auto m = ModeSet::Parse(bad);
    EXPECT_FALSE(m.ok()) << bad;
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(m.status().message().find(bad), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace kiln::fsutil
