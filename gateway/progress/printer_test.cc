#include "gateway/progress/printer.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace kiln::progress {
namespace {

// Runs events through a printer of `mode` and returns what it wrote.
std::string Render(const std::string& mode, const std::vector<Event>& events) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  {
    auto p = NewPrinter(mode, f);
    EXPECT_TRUE(p.ok());
    for (const Event& e : events) (*p)->Emit(e);
    (*p)->Finish();
  }
  fclose(f);
  std::string out(buf, len);
  free(buf);
  return out;
}

std::vector<Event> TwoSteps() {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  Event s1{Event::Kind::kStarted, "sha256:a", "mkfile /a", t0};
  Event c1 = s1;
  c1.kind = Event::Kind::kCompleted;
  c1.completed = t0 + absl::Milliseconds(250);
  Event s2{Event::Kind::kStarted, "sha256:b", "local://context", t0};
  Event c2 = s2;
  c2.kind = Event::Kind::kCompleted;
  c2.completed = t0;
  c2.cached = true;
  Event log{Event::Kind::kLog, "sha256:a", "mkfile /a", t0};
  log.data = "hello\nworld\n";
  return {s1, log, c1, s2, c2};
}

TEST(PrinterTest, PlainPrintsOneLinePerEventAndStepOutput) {
  EXPECT_EQ(Render("plain", TwoSteps()),
            "#1 mkfile /a\n#1 hello\n#1 world\n#1 DONE 0.250s\n#2 local://context\n#2 CACHED\n");
}

TEST(PrinterTest, RawJsonCarriesCachedAndDuration) {
  std::string out = Render("rawjson", TwoSteps());
  EXPECT_NE(out.find("{\"type\":\"completed\",\"vertex\":\"sha256:a\",\"name\":\"mkfile /a\","
                     "\"cached\":false,\"duration_ms\":250.000}\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"vertex\":\"sha256:b\",\"name\":\"local://context\",\"cached\":true"),
            std::string::npos);
  EXPECT_NE(out.find("\"data\":\"hello\\nworld\\n\""), std::string::npos);
}

TEST(PrinterTest, TtyEndsWithEveryStepAndFinished) {
  std::string out = Render("tty", TwoSteps());
  EXPECT_NE(out.find("#1 mkfile /a"), std::string::npos);
  EXPECT_NE(out.find("0.250s"), std::string::npos);
  EXPECT_NE(out.find("CACHED"), std::string::npos);
  EXPECT_NE(out.find("FINISHED"), std::string::npos);
}

TEST(PrinterTest, UnknownModeIsAnError) {
  EXPECT_EQ(NewPrinter("fancy", stderr).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::progress
