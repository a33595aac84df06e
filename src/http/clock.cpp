#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "vmeval/core/error.hpp"
#include "vmeval/http/http.hpp"

namespace vmeval::http {

namespace {

// Short enough that Ctrl-C feels immediate, long enough to cost nothing.
constexpr double kSliceS = 0.1;

class SystemClock : public Clock {
public:
    double now() override {
        using Seconds = std::chrono::duration<double>;
        return std::chrono::duration_cast<Seconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    void sleep(double seconds, const std::atomic<bool>* cancel) override {
        if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
        const double deadline = now() + seconds;
        for (;;) {
            if (cancel != nullptr && cancel->load())
                throw Error(ErrorCode::Cancelled, "interrupted");
            double left = deadline - now();
            if (left <= 0) return;
            std::this_thread::sleep_for(std::chrono::duration<double>(std::min(left, kSliceS)));
        }
    }
};

}  // namespace

Clock& system_clock() {
    static SystemClock clock;
    return clock;
}

}  // namespace vmeval::http
