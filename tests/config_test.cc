#include "base/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace hrm {
namespace {

TEST(Config, DefaultsResolveAndDerive) {
  json c = ResolveConfig(json::object());
  EXPECT_EQ(c["model"], "hrm");
  EXPECT_EQ(c["M"], 12);     // N*T with defaults 4*3
  EXPECT_EQ(c["heads"], 2);  // d/64
  EXPECT_DOUBLE_EQ(c["min_lr"].get<double>(), 1e-4);
  EXPECT_FALSE(c.contains("L"));
}

TEST(Config, RejectsUnknownKeyWrongTypeAndInvariants) {
  EXPECT_THROW(ResolveConfig(json{{"depth", 3}}), ConfigError);
  try {
    ResolveConfig(json{{"d", "wide"}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key, "d");
    EXPECT_NE(std::string(e.what()).find("wide"), std::string::npos);
  }
  try {
    ResolveConfig(json{{"N", 2}, {"T", 2}, {"K", 5}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key, "K");
  }
  EXPECT_THROW(ResolveConfig(json{{"L", 2}}), ConfigError);  // L set for hrm
  EXPECT_THROW(ResolveConfig(json{{"d", 100}, {"heads", 3}}), ConfigError);
  EXPECT_THROW(ResolveConfig(json{{"clip_mode", "sometimes"}}), ConfigError);
  EXPECT_THROW(ResolveConfig(json{{"model", "unitf"}, {"N", 2}}), ConfigError);
}

TEST(Config, ResolvingAResolvedConfigChangesNothing) {
  for (const char* model : {"transformer", "unitf", "hrm"}) {
    json c = ResolveConfig(json{{"model", model}});
    EXPECT_EQ(ResolveConfig(c), c) << model;
  }
  EXPECT_THROW(ResolveConfig(json{{"N", 2}, {"T", 2}, {"M", 5}}), ConfigError);
}

TEST(Config, RunIdIgnoresDeviceButNotNumbers) {
  json a = ResolveConfig(json{{"device", "cpu"}});
  json b = ResolveConfig(json{{"device", "cuda:1"}, {"threads", 2}});
  json c = ResolveConfig(json{{"lr", 2e-3}});
  EXPECT_EQ(RunId(a), RunId(b));
  EXPECT_NE(RunId(a), RunId(c));
  EXPECT_EQ(RunId(a).size(), 12u);
  // Explicitly giving a default is the same run.
  EXPECT_EQ(RunId(a), RunId(ResolveConfig(json{{"N", 4}, {"lr", 1e-3}})));
}

TEST(Config, OverridesAndYamlErrorsNameFileAndLine) {
  json g = json::object();
  ApplyOverrides(g, {"model=transformer", "L=2", "lr=6e-4"});
  json c = ResolveConfig(g);
  EXPECT_EQ(c["L"], 2);
  EXPECT_THROW(ApplyOverrides(g, {"steps=ten"}), ConfigError);
  const std::string path = testing::TempDir() + "/bad.yaml";
  {
    std::ofstream f(path);
    f << "model: hrm\nd: 64\nsteps: lots\n";
  }
  try {
    ReadConfigYaml(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3: steps"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hrm
