#include "vmeval/core/params.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vmeval/core/error.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::Params;

/// Runs `fn`, expecting Error(Usage); returns its message ("" and a failure otherwise).
template <typename Fn>
std::string usage_error(Fn fn) {
    try {
        fn();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Usage) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected Error(Usage), nothing was thrown";
    return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST(ParamsParse, KeyValuePairsAreStored) {
    Params p = Params::parse({"frames=24", "fps=12.5", "mode=fast"});
    EXPECT_FALSE(p.empty());
    EXPECT_TRUE(p.has("frames"));
    EXPECT_TRUE(p.has("fps"));
    EXPECT_FALSE(p.has("steps"));
    EXPECT_EQ(p.values().size(), 3u);
    EXPECT_EQ(p.values().at("frames"), "24");
    EXPECT_EQ(p.values().at("fps"), "12.5");
}

TEST(ParamsParse, EmptyListGivesEmptyParams) {
    Params p = Params::parse({});
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(p.values().empty());
}

TEST(ParamsParse, ValueMayContainEqualsSign) {
    Params p = Params::parse({"prompt_suffix=a=b"});
    EXPECT_EQ(p.get_string("prompt_suffix", ""), "a=b");
}

TEST(ParamsParse, EmptyValueIsAllowed) {
    Params p = Params::parse({"note="});
    EXPECT_TRUE(p.has("note"));
    EXPECT_EQ(p.get_string("note", "x"), "");
}

TEST(ParamsParse, LaterEntryForSameKeyWins) {
    Params p = Params::parse({"frames=8", "frames=9"});
    EXPECT_EQ(p.get_int("frames", 1, 1, 100), 9);
}

TEST(ParamsParse, EntryWithoutEqualsIsUsageErrorNamingIt) {
    std::string msg = usage_error([] { Params::parse({"frames"}); });
    EXPECT_TRUE(contains(msg, "frames")) << msg;
}

TEST(ParamsParse, EntryWithEmptyKeyIsUsageError) {
    std::string msg = usage_error([] { Params::parse({"=5"}); });
    EXPECT_TRUE(contains(msg, "=5")) << msg;
}

TEST(ParamsGetInt, MissingKeyGivesFallback) {
    Params p;
    EXPECT_EQ(p.get_int("frames", 16, 1, 1000), 16);
}

TEST(ParamsGetInt, ParsesValuesInsideRangeIncludingBounds) {
    Params p = Params::parse({"a=1", "b=1000", "c=-5", "d=500"});
    EXPECT_EQ(p.get_int("a", 0, 1, 1000), 1);
    EXPECT_EQ(p.get_int("b", 0, 1, 1000), 1000);
    EXPECT_EQ(p.get_int("c", 0, -10, 10), -5);
    EXPECT_EQ(p.get_int("d", 0, 1, 1000), 500);
}

TEST(ParamsGetInt, OutOfRangeIsUsageErrorNamingKeyAndRange) {
    Params p = Params::parse({"frames=0", "big=1001"});
    std::string msg = usage_error([&] { p.get_int("frames", 16, 1, 1000); });
    EXPECT_TRUE(contains(msg, "frames")) << msg;
    EXPECT_TRUE(contains(msg, "1")) << msg;
    EXPECT_TRUE(contains(msg, "1000")) << msg;
    usage_error([&] { p.get_int("big", 16, 1, 1000); });
}

TEST(ParamsGetInt, NonNumbersAreUsageErrors) {
    for (const char* bad : {"frames=abc", "frames=12abc", "frames=", "frames=1.5", "frames= 3x"}) {
        Params p = Params::parse({bad});
        std::string msg = usage_error([&] { p.get_int("frames", 16, 1, 1000); });
        EXPECT_TRUE(contains(msg, "frames")) << bad << ": " << msg;
    }
}

TEST(ParamsGetInt, HugeNumberIsUsageErrorNotWraparound) {
    Params p = Params::parse({"frames=99999999999999999999", "n=4294967297"});
    usage_error([&] { p.get_int("frames", 16, 1, 1000); });
    // 2^32 + 1 must not wrap to 1.
    usage_error([&] { p.get_int("n", 16, 1, 1000); });
}

TEST(ParamsGetDouble, ParsesAndChecksRange) {
    Params p = Params::parse({"fps=12.5", "lo=0.1", "hi=120", "int=7"});
    EXPECT_DOUBLE_EQ(p.get_double("fps", 8.0, 0.1, 120.0), 12.5);
    EXPECT_DOUBLE_EQ(p.get_double("lo", 8.0, 0.1, 120.0), 0.1);
    EXPECT_DOUBLE_EQ(p.get_double("hi", 8.0, 0.1, 120.0), 120.0);
    EXPECT_DOUBLE_EQ(p.get_double("int", 8.0, 0.1, 120.0), 7.0);
    EXPECT_DOUBLE_EQ(p.get_double("missing", 8.0, 0.1, 120.0), 8.0);
}

TEST(ParamsGetDouble, OutOfRangeAndNonNumbersAreUsageErrors) {
    for (const char* bad : {"fps=0", "fps=120.5", "fps=-1", "fps=abc", "fps=", "fps=nan", "fps=inf",
                            "fps=1e999", "fps=3fps"}) {
        Params p = Params::parse({bad});
        std::string msg = usage_error([&] { p.get_double("fps", 8.0, 0.1, 120.0); });
        EXPECT_TRUE(contains(msg, "fps")) << bad << ": " << msg;
    }
}

TEST(ParamsGetString, ReturnsValueOrFallback) {
    Params p = Params::parse({"mode=fast"});
    EXPECT_EQ(p.get_string("mode", "slow"), "fast");
    EXPECT_EQ(p.get_string("other", "slow"), "slow");
}

TEST(ParamsSet, OverridesAndAdds) {
    Params p;
    p.set("frames", "5");
    EXPECT_FALSE(p.empty());
    EXPECT_EQ(p.get_int("frames", 1, 1, 10), 5);
    p.set("frames", "6");
    EXPECT_EQ(p.get_int("frames", 1, 1, 10), 6);
}

TEST(ParamsExpectOnly, KnownKeysPass) {
    Params p = Params::parse({"frames=5", "fps=12"});
    EXPECT_NO_THROW(p.expect_only({"frames", "fps", "steps"}, "baseline-still"));
    EXPECT_NO_THROW(Params().expect_only({}, "baseline-still"));
}

TEST(ParamsExpectOnly, UnknownKeyIsUsageErrorNamingKeyModelAndKnownKeys) {
    Params p = Params::parse({"frames=5", "framez=6"});
    std::string msg = usage_error([&] { p.expect_only({"frames", "fps"}, "baseline-still"); });
    EXPECT_TRUE(contains(msg, "framez")) << msg;
    EXPECT_TRUE(contains(msg, "baseline-still")) << msg;
    EXPECT_TRUE(contains(msg, "frames")) << msg;
    EXPECT_TRUE(contains(msg, "fps")) << msg;
}

TEST(ParamsExpectOnly, ModelTakingNoParametersSaysSo) {
    Params p = Params::parse({"frames=5"});
    std::string msg = usage_error([&] { p.expect_only({}, "some-model"); });
    EXPECT_TRUE(contains(msg, "frames")) << msg;
    EXPECT_TRUE(contains(msg, "none")) << msg;
}
