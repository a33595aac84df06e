#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace vmeval::runs {

/// Counts a batch's jobs as they finish and draws the live status line (done/failed/skipped, rate,
/// ETA) through the logger. Thread-safe.
class Progress {
public:
    Progress(size_t total, size_t already_skipped, bool enabled);
    ~Progress();
    void job_finished(bool success);
    /// A job that turned out to need nothing (another worker did it meanwhile).
    void job_skipped();
    /// "12/100 done · 1 failed · 40 skipped · 2.1/s · ETA 42s"
    std::string line() const;
    /// Position of the next finished job, for "[k/N]" prefixes.
    size_t position() const;

private:
    void draw();
    mutable std::mutex mutex_;
    size_t total_;
    size_t skipped_;
    size_t done_ = 0;
    size_t failed_ = 0;
    bool enabled_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace vmeval::runs
