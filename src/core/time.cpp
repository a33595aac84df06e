#include "vmeval/core/time.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace vmeval {

std::string iso8601_utc(Clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

std::string run_stamp_local(Clock::time_point t) {
    std::time_t secs = Clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
    return buf;
}

std::string human_duration(double seconds) {
    if (!(seconds >= 0)) seconds = 0;
    char buf[48];
    if (seconds < 9.995) {
        std::snprintf(buf, sizeof buf, "%.2fs", seconds);
    } else if (seconds < 59.95) {
        std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    } else {
        long s = std::lround(seconds);
        if (s < 3600) {
            std::snprintf(buf, sizeof buf, "%ldm %02lds", s / 60, s % 60);
        } else {
            std::snprintf(buf, sizeof buf, "%ldh %02ldm %02lds", s / 3600, (s % 3600) / 60, s % 60);
        }
    }
    return buf;
}

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace vmeval
