#include "vmeval/runs/claim.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"

namespace {

namespace fs = std::filesystem;
namespace runs = vmeval::runs;
using namespace std::chrono_literals;
using vmeval::testkit::ScopedEnv;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;

std::string host() {
    char buf[256] = {0};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

/// A pid that certainly belonged to a process that has exited.
long dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
}

void set_age(const fs::path& file, int seconds) {
    struct timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
}

/// Plants a claim as another worker would leave it.
void plant_claim(const fs::path& task, const std::string& owner, int age_s = 0) {
    write_text(task / runs::kQuestionClaimDir / "owner", owner + "\n");
    if (age_s > 0) set_age(task / runs::kQuestionClaimDir / "owner", age_s);
}

runs::ClaimTiming timing(int stale_s) {
    runs::ClaimTiming t;
    t.stale_after = std::chrono::seconds(stale_s);
    t.heartbeat = 20ms;
    return t;
}

TEST(QuestionClaim, OneHolderAtATimeAndReleasedOnDestruction) {
    TempDir dir;
    fs::path task = dir / "m/maze_task/maze_0000";
    {
        auto a = runs::QuestionClaim::try_acquire(task, timing(600));
        ASSERT_NE(a, nullptr);
        EXPECT_TRUE(a->held());
        EXPECT_TRUE(a->beat());
        runs::ClaimHolder holder;
        auto b = runs::QuestionClaim::try_acquire(task, timing(600), &holder);
        EXPECT_EQ(b, nullptr);
        EXPECT_EQ(holder.pid, ::getpid());
        EXPECT_EQ(holder.host, host());
        EXPECT_NE(holder.describe().find("pid " + std::to_string(::getpid())), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(task / runs::kQuestionClaimDir));
    auto c = runs::QuestionClaim::try_acquire(task, timing(600));
    EXPECT_NE(c, nullptr);
    c.reset();
    // Nothing of ours is left behind: no private folders either.
    EXPECT_TRUE(fs::is_empty(task));
}

TEST(QuestionClaim, DeadWorkerOnThisHostIsTakenOverWithItsLeftovers) {
    TempDir dir;
    fs::path task = dir / "task";
    long dead = dead_pid();
    plant_claim(task, host() + " " + std::to_string(dead) + " abc");
    write_text(task / ".partial-m_task_20260101_000000" / "owner", host() + " " + std::to_string(dead) + "\n");
    write_text(task / ".partial-m_task_20260101_000001" / "owner", "elsewhere 17\n");
    write_text(task / (".claim-" + std::to_string(dead) + "-3-" + host()) / "owner", "x\n");

    auto c = runs::QuestionClaim::try_acquire(task, timing(600));
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(fs::exists(task / ".partial-m_task_20260101_000000"));
    EXPECT_FALSE(fs::exists(task / (".claim-" + std::to_string(dead) + "-3-" + host())));
    EXPECT_TRUE(fs::exists(task / ".partial-m_task_20260101_000001")) << "another worker's run was touched";
}

TEST(QuestionClaim, OtherHostIsRespectedUntilItsHeartbeatIsOld) {
    TempDir dir;
    fs::path task = dir / "task";
    plant_claim(task, "node7 4242 tok", 30);
    runs::ClaimHolder holder;
    EXPECT_EQ(runs::QuestionClaim::try_acquire(task, timing(600), &holder), nullptr);
    EXPECT_EQ(holder.host, "node7");
    EXPECT_EQ(holder.pid, 4242);
    EXPECT_GE(holder.heartbeat_age.count(), 29);

    write_text(task / ".partial-m_task_20260101_000000" / "owner", "node7 4242\n");
    auto c = runs::QuestionClaim::try_acquire(task, timing(10));
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(fs::exists(task / ".partial-m_task_20260101_000000"));
}

TEST(QuestionClaim, LiveProcessOnThisHostIsRespected) {
    TempDir dir;
    fs::path task = dir / "task";
    plant_claim(task, host() + " 1 tok");  // pid 1 is alive
    EXPECT_EQ(runs::QuestionClaim::try_acquire(task, timing(600)), nullptr);
}

TEST(QuestionClaim, TakenOverHolderNoticesAndLeavesTheNewClaimAlone) {
    TempDir dir;
    fs::path task = dir / "task";
    auto a = runs::QuestionClaim::try_acquire(task, timing(600));
    ASSERT_NE(a, nullptr);
    // a stops beating (a frozen process): its heartbeat ages past the limit of worker b.
    set_age(task / runs::kQuestionClaimDir / "owner", 120);
    // Same host and a live pid: only the heartbeat age can make it stale.
    auto b = runs::QuestionClaim::try_acquire(task, timing(60));
    ASSERT_NE(b, nullptr);
    EXPECT_FALSE(a->held());
    EXPECT_FALSE(a->beat());
    a.reset();
    EXPECT_TRUE(b->held()) << "the old holder's release removed the new claim";
}

TEST(QuestionClaim, HeartbeatKeepsAClaimFresh) {
    TempDir dir;
    fs::path task = dir / "task";
    auto a = runs::QuestionClaim::try_acquire(task, timing(600));
    ASSERT_NE(a, nullptr);
    set_age(task / runs::kQuestionClaimDir / "owner", 500);
    {
        runs::Heartbeat beat(10ms);
        beat.add(a.get());
        std::this_thread::sleep_for(200ms);
        beat.remove(a.get());
    }
    auto h = runs::read_claim_holder(task / runs::kQuestionClaimDir);
    ASSERT_TRUE(h);
    EXPECT_LT(h->heartbeat_age.count(), 5);
}

TEST(QuestionClaim, RacingThreadsNeverHoldTogether) {
    TempDir dir;
    fs::path task = dir / "task";
    std::atomic<int> inside{0};
    std::atomic<int> max_inside{0};
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                auto c = runs::QuestionClaim::try_acquire(task, timing(600));
                if (!c) continue;
                int now = ++inside;
                int seen = max_inside.load();
                while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
                }
                ++wins;
                --inside;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(max_inside.load(), 1);
    EXPECT_GT(wins.load(), 0);
    EXPECT_FALSE(fs::exists(task / runs::kQuestionClaimDir));
}

TEST(ClaimTiming, ReadsTheStaleLimitFromTheEnvironment) {
    {
        ScopedEnv e("VMEVAL_CLAIM_STALE_S", "2");
        auto t = runs::ClaimTiming::from_env();
        EXPECT_EQ(t.stale_after, 2000ms);
        EXPECT_EQ(t.heartbeat, 200ms);
    }
    {
        ScopedEnv e("VMEVAL_CLAIM_STALE_S", nullptr);
        auto t = runs::ClaimTiming::from_env();
        EXPECT_EQ(t.stale_after, std::chrono::milliseconds(std::chrono::minutes(10)));
        EXPECT_EQ(t.heartbeat, 30000ms);
    }
    for (const char* bad : {"abc", "-1", "0", "5s"}) {
        ScopedEnv e("VMEVAL_CLAIM_STALE_S", bad);
        try {
            runs::ClaimTiming::from_env();
            ADD_FAILURE() << bad << " accepted";
        } catch (const vmeval::Error& err) {
            EXPECT_EQ(err.code(), vmeval::ErrorCode::Config);
            EXPECT_NE(std::string(err.what()).find("VMEVAL_CLAIM_STALE_S"), std::string::npos);
        }
    }
}

}  // namespace
