#include "vmeval/runs/progress.hpp"

#include <cstdio>

#include "vmeval/core/log.hpp"
#include "vmeval/core/time.hpp"

namespace vmeval::runs {

Progress::Progress(size_t total, size_t already_skipped, bool enabled)
    : total_(total), skipped_(already_skipped), enabled_(enabled && logging::interactive()),
      start_(std::chrono::steady_clock::now()) {
    if (enabled_) draw();
}

Progress::~Progress() {
    if (enabled_) logging::set_status("");
}

void Progress::job_finished(bool success) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        (success ? done_ : failed_) += 1;
    }
    if (enabled_) draw();
}

void Progress::job_skipped() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        skipped_ += 1;
    }
    if (enabled_) draw();
}

size_t Progress::position() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return skipped_ + done_ + failed_;
}

std::string Progress::line() const {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t finished = done_ + failed_;
    size_t to_run = total_ - skipped_;
    double elapsed = seconds_between(start_, std::chrono::steady_clock::now());
    double rate = elapsed > 0 ? finished / elapsed : 0;
    char buf[200];
    std::string eta = "--";
    if (rate > 0 && finished < to_run) eta = human_duration((to_run - finished) / rate);
    if (finished == to_run) eta = "0s";
    std::snprintf(buf, sizeof buf, "[%zu/%zu] %zu done, %zu failed, %zu skipped | %.2f/s | ETA %s",
                  skipped_ + finished, total_, done_, failed_, skipped_, rate, eta.c_str());
    return buf;
}

void Progress::draw() { logging::set_status(line()); }

}  // namespace vmeval::runs
