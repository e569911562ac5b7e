#include "frontends/dockerfile/parser/directives.h"

#include "frontends/dockerfile/parser/parser.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile {
namespace {

TEST(DirectiveParserTest, StopsAtFirstNonDirective) {
  parser_internal::DirectiveParser parser;
  auto first = parser.ParseLine("# EScape = \\");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->name, "escape");
  EXPECT_EQ((*first)->value, "\\");
  EXPECT_FALSE(parser.ParseLine("# key = FOO bar")->has_value());
  EXPECT_FALSE(parser.ParseLine("# syntax=x")->has_value());
}

TEST(DirectiveParserTest, TrimsValueAndKeepsLoneBlank) {
  parser_internal::DirectiveParser parser;
  auto d = parser.ParseLine("#syntax =  a b  ");
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->value, "a b");
  parser_internal::DirectiveParser blank;
  auto only_blanks = blank.ParseLine("# escape=   ");
  ASSERT_TRUE(only_blanks.ok() && only_blanks->has_value());
  EXPECT_EQ((*only_blanks)->value, " ");
}

TEST(DetectSyntaxTest, FindsHashForm) {
  auto m = DetectSyntax("# syntax = dockerfile:experimental // opts\nFROM busybox\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->ref, "dockerfile:experimental");
  EXPECT_EQ(m->cmdline, "dockerfile:experimental // opts");
  EXPECT_EQ(m->line, 1);
}

TEST(DetectSyntaxTest, SkipsShebangAndBom) {
  auto m = DetectSyntax("#!/bin/sh\n# syntax = x\nFROM busybox\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->ref, "x");
  EXPECT_EQ(m->line, 2);
  auto bom = DetectSyntax("\xEF\xBB\xBF# syntax = myfrontend\nFROM busybox\n");
  ASSERT_TRUE(bom.has_value());
  EXPECT_EQ(bom->ref, "myfrontend");
  EXPECT_EQ(bom->line, 1);
  EXPECT_FALSE(DetectSyntax("FROM busybox\n# syntax=x\n").has_value());
  EXPECT_FALSE(DetectSyntax("#!/bin/sh\n\n# syntax = x\n").has_value());
}

TEST(DetectSyntaxTest, FindsSlashAndJsonForms) {
  EXPECT_EQ(DetectSyntax("//syntax=foo\n//key=value")->ref, "foo");
  EXPECT_EQ(DetectSyntax("#!/bin/sh\n//syntax=x")->ref, "x");
  EXPECT_EQ(DetectSyntax("{\"syntax\": \"foo\", \"bar\": [\"abc\"]}")->ref, "foo");
  EXPECT_FALSE(DetectSyntax("{\"syntax\": \"foo\"").has_value());
  EXPECT_FALSE(DetectSyntax("{\"syntax\": \"foo\"}\n# syntax=bar").has_value());
  EXPECT_FALSE(DetectSyntax("{\"syntax\": 1}").has_value());
}

TEST(FindDirectiveTest, FindsCheckOnlyInHashForm) {
  auto m = FindDirective("check", "#check = skip=all // opts\nFROM busybox\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->ref, "skip=all");
  EXPECT_EQ(m->cmdline, "skip=all // opts");
  EXPECT_FALSE(FindDirective("syntax", "//syntax=foo\n").has_value());
}

}  // namespace
}  // namespace kiln::dockerfile
