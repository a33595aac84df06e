#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/hash.hpp"
#include "vmeval/core/time.hpp"

namespace {

using vmeval::Clock;
using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;

/// A UTC wall-clock instant with milliseconds.
Clock::time_point utc(int y, int mo, int d, int h, int mi, int s, int ms = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    std::time_t t = timegm(&tm);
    return Clock::from_time_t(t) + std::chrono::milliseconds(ms);
}

/// Sets TZ for the lifetime of the object and restores it afterwards.
class ScopedTz {
public:
    explicit ScopedTz(const char* tz) {
        const char* old = std::getenv("TZ");
        had_ = old != nullptr;
        if (had_) old_ = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~ScopedTz() {
        if (had_) {
            ::setenv("TZ", old_.c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }

private:
    bool had_ = false;
    std::string old_;
};

}  // namespace

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(vmeval::sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(vmeval::sha256_hex(""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(vmeval::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, HexIsLowerCaseAnd64Chars) {
    std::string h = vmeval::sha256_hex(std::string("\0\1\2", 3));
    EXPECT_EQ(h.size(), 64u);
    EXPECT_TRUE(std::regex_match(h, std::regex("[0-9a-f]{64}"))) << h;
}

TEST(Sha256, FileMatchesHexOfItsBytes) {
    TempDir dir;
    write_text(dir / "abc.txt", "abc");
    EXPECT_EQ(vmeval::sha256_file(dir / "abc.txt"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    write_text(dir / "empty", "");
    EXPECT_EQ(vmeval::sha256_file(dir / "empty"), vmeval::sha256_hex(""));
}

TEST(Sha256, FileLargerThanReadBufferMatchesHex) {
    TempDir dir;
    std::string data;
    for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>((i * 31) % 251));
    write_text(dir / "big.bin", data);
    EXPECT_EQ(vmeval::sha256_file(dir / "big.bin"), vmeval::sha256_hex(data));
}

TEST(Sha256, MissingFileIsIoErrorNamingIt) {
    TempDir dir;
    fs::path p = dir / "missing.bin";
    try {
        vmeval::sha256_file(p);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
}

TEST(Iso8601Utc, FormatsWithMillisecondsAndZ) {
    EXPECT_EQ(vmeval::iso8601_utc(utc(2026, 11, 25, 18, 2, 50, 123)), "2026-11-25T18:02:50.123Z");
    EXPECT_EQ(vmeval::iso8601_utc(utc(2024, 2, 29, 0, 0, 0, 0)), "2024-02-29T00:00:00.000Z");
    EXPECT_EQ(vmeval::iso8601_utc(utc(1999, 12, 31, 23, 59, 59, 999)), "1999-12-31T23:59:59.999Z");
}

TEST(Iso8601Utc, EpochIsFormatted) {
    EXPECT_EQ(vmeval::iso8601_utc(Clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(Iso8601Utc, IgnoresLocalTimeZone) {
    ScopedTz tz("Asia/Kolkata");
    EXPECT_EQ(vmeval::iso8601_utc(utc(2026, 11, 25, 18, 2, 50, 7)), "2026-11-25T18:02:50.007Z");
}

TEST(Iso8601Utc, NowMatchesPattern) {
    std::string s = vmeval::iso8601_utc(Clock::now());
    EXPECT_TRUE(std::regex_match(s, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
        << s;
}

TEST(RunStampLocal, UsesLocalTimeInOriginalFormat) {
    {
        ScopedTz tz("UTC");
        EXPECT_EQ(vmeval::run_stamp_local(utc(2026, 11, 25, 18, 2, 50, 900)), "20261125_180250");
    }
    {
        ScopedTz tz("UTC-2");  // POSIX: two hours east of UTC
        EXPECT_EQ(vmeval::run_stamp_local(utc(2026, 11, 25, 23, 30, 0)), "20261126_013000");
    }
}

TEST(RunStampLocal, NowMatchesPattern) {
    std::string s = vmeval::run_stamp_local(Clock::now());
    EXPECT_TRUE(std::regex_match(s, std::regex(R"(\d{8}_\d{6})"))) << s;
}

TEST(HumanDuration, HoursMinutesSecondsAsDocumented) {
    EXPECT_EQ(vmeval::human_duration(3723), "1h 02m 03s");
    EXPECT_EQ(vmeval::human_duration(123), "2m 03s");
    EXPECT_EQ(vmeval::human_duration(60), "1m 00s");
    EXPECT_EQ(vmeval::human_duration(3600), "1h 00m 00s");
    EXPECT_EQ(vmeval::human_duration(36000 + 59 * 60 + 59), "10h 59m 59s");
}

TEST(HumanDuration, ShortDurationsInSeconds) {
    // include/vmeval/core/time.hpp documents "4.20s" under ten seconds and "12.5s" under a minute.
    EXPECT_EQ(vmeval::human_duration(4.2), "4.20s");
    EXPECT_EQ(vmeval::human_duration(42.0), "42.0s");
    // Rounding never shows a value that belongs to the next format.
    EXPECT_EQ(vmeval::human_duration(9.996), "10.0s");
    EXPECT_EQ(vmeval::human_duration(59.96), "1m 00s");
}

TEST(HumanDuration, ShortDurationsEndInSecondsAndStayBelowAMinute) {
    for (double s : {0.0, 0.004, 0.5, 9.99, 12.3, 59.4}) {
        std::string h = vmeval::human_duration(s);
        EXPECT_TRUE(std::regex_match(h, std::regex(R"(\d+(\.\d+)?s)"))) << s << " -> " << h;
    }
}

TEST(HumanDuration, NegativeAndNanClampToZero) {
    std::string zero = vmeval::human_duration(0);
    EXPECT_EQ(vmeval::human_duration(-5), zero);
    EXPECT_EQ(vmeval::human_duration(std::nan("")), zero);
}

TEST(SecondsBetween, MeasuresSteadyClockDifference) {
    auto a = std::chrono::steady_clock::now();
    auto b = a + std::chrono::milliseconds(1500);
    EXPECT_DOUBLE_EQ(vmeval::seconds_between(a, b), 1.5);
    EXPECT_DOUBLE_EQ(vmeval::seconds_between(b, a), -1.5);
}
