#pragma once

#include <chrono>
#include <string>

namespace vmeval {
using Clock = std::chrono::system_clock;
/// "2026-11-25T18:02:50.123Z" (UTC, milliseconds): what metadata.json records.
std::string iso8601_utc(Clock::time_point t);
/// "20261125_180250" in local time, the original's run_id stamp.
std::string run_stamp_local(Clock::time_point t);
/// "1h 02m 03s" / "2m 03s" / "12.5s" / "4.20s" for people.
std::string human_duration(double seconds);
/// Seconds between two steady-clock points.
double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b);
}  // namespace vmeval
