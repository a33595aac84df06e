#include "vmeval/runs/layout.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/time.hpp"

namespace {

using vmeval::Clock;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;

const std::string kModel = "baseline-still";
const std::string kTask = "maze_0001";
const std::string kStamp = "20260115_093012";

std::string this_host() {
    char buf[256] = {0};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

/// A pid that no process has: a child that has already been reaped.
pid_t dead_pid() {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    int status = 0;
    waitpid(pid, &status, 0);
    return pid;
}

bool hidden_entries_only_partial_free(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().rfind(runs::kPartialPrefix, 0) == 0) return false;
    }
    return true;
}

std::vector<std::string> names_of(const std::vector<runs::RunName>& v) {
    std::vector<std::string> out;
    for (const auto& r : v) out.push_back(r.run_id);
    return out;
}

}  // namespace

// ---- names -----------------------------------------------------------------------------------

TEST(LayoutTaskDir, IsOutputModelDomainTaskTaskId) {
    EXPECT_EQ(runs::task_dir("/out", "baseline-still", "maze", "maze_0001"),
              fs::path("/out/baseline-still/maze_task/maze_0001"));
}

TEST(LayoutConstants, FolderAndFileNames) {
    EXPECT_STREQ(runs::kVideoDir, "video");
    EXPECT_STREQ(runs::kVideoFile, "generated_video.mp4");
    EXPECT_STREQ(runs::kQuestionDir, "question");
    EXPECT_STREQ(runs::kMetadataFile, "metadata.json");
    EXPECT_STREQ(runs::kPartialPrefix, ".partial-");
    EXPECT_STREQ(runs::kBatchesDir, "_batches");
}

TEST(MakeRunId, FirstRunHasNoSuffix) {
    EXPECT_EQ(runs::make_run_id(kModel, kTask, kStamp, 1),
              "baseline-still_maze_0001_20260115_093012");
}

TEST(MakeRunId, LaterRunsInSameSecondGetSuffix) {
    EXPECT_EQ(runs::make_run_id(kModel, kTask, kStamp, 2),
              "baseline-still_maze_0001_20260115_093012_2");
    EXPECT_EQ(runs::make_run_id(kModel, kTask, kStamp, 17),
              "baseline-still_maze_0001_20260115_093012_17");
}

TEST(ParseRunId, RoundTripsMakeRunId) {
    for (int n : {1, 2, 3, 10, 99, 12345}) {
        std::string id = runs::make_run_id(kModel, kTask, kStamp, n);
        auto parsed = runs::parse_run_id(id, kModel, kTask);
        ASSERT_TRUE(parsed.has_value()) << id;
        EXPECT_EQ(parsed->run_id, id);
        EXPECT_EQ(parsed->stamp, kStamp);
        EXPECT_EQ(parsed->n, n);
    }
}

TEST(ParseRunId, RoundTripsNamesWithUnderscoresAndDotsInModelAndTask) {
    std::string model = "wan-2.1-i2v-480p";
    std::string task = "rotation_task_0002";
    std::string id = runs::make_run_id(model, task, kStamp, 3);
    auto parsed = runs::parse_run_id(id, model, task);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->n, 3);
    EXPECT_EQ(parsed->stamp, kStamp);
}

TEST(ParseRunId, RejectsOtherModelsAndTasks) {
    std::string id = runs::make_run_id(kModel, kTask, kStamp, 1);
    EXPECT_FALSE(runs::parse_run_id(id, "baseline-crossfade", kTask));
    EXPECT_FALSE(runs::parse_run_id(id, "baseline", kTask));
    EXPECT_FALSE(runs::parse_run_id(id, kModel, "maze_0002"));
    EXPECT_FALSE(runs::parse_run_id(id, kModel, "maze"));
    EXPECT_FALSE(runs::parse_run_id(id, kModel, "maze_000"));
}

TEST(ParseRunId, RejectsRunOfTaskWhoseIdExtendsThisOne) {
    // Task "maze" must not claim the runs of task "maze_0001" or "maze_20260115".
    EXPECT_FALSE(
        runs::parse_run_id(runs::make_run_id(kModel, "maze_0001", kStamp, 1), kModel, "maze"));
    EXPECT_FALSE(
        runs::parse_run_id(runs::make_run_id(kModel, "maze_20260115", kStamp, 1), kModel, "maze"));
    EXPECT_FALSE(runs::parse_run_id(runs::make_run_id(kModel, "maze_20260115_093012", kStamp, 1),
                                    kModel, "maze"));
    EXPECT_FALSE(runs::parse_run_id(runs::make_run_id(kModel, "maze_20260115_093012", kStamp, 2),
                                    kModel, "maze"));
}

TEST(ParseRunId, RejectsHiddenAndPartialNames) {
    std::string id = runs::make_run_id(kModel, kTask, kStamp, 1);
    EXPECT_FALSE(runs::parse_run_id(std::string(runs::kPartialPrefix) + id, kModel, kTask));
    EXPECT_FALSE(runs::parse_run_id("." + id, kModel, kTask));
}

TEST(ParseRunId, RejectsMalformedStamps) {
    const std::string p = kModel + "_" + kTask + "_";
    for (const std::string& bad : {
             p,                          // no stamp
             p + "20260115",             // date only
             p + "20260115_0930",        // short time
             p + "20260115-093012",      // wrong separator
             p + "2026011_5093012",      // separator misplaced
             p + "2026O115_093012",      // letter O
             p + "20260115_09301x",      // letter in time
             p + "20260115_093012_",     // empty suffix
             p + "20260115_093012_1",    // explicit first run
             p + "20260115_093012_0",    // zero
             p + "20260115_093012_-2",   // negative
             p + "20260115_093012_2a",   // junk after suffix
             p + "20260115_093012x",     // junk after stamp
             p + "20260115_093012_2_3",  // two suffixes
             p + "20260115_0930123",     // seven digit time
         }) {
        EXPECT_FALSE(runs::parse_run_id(bad, kModel, kTask)) << bad;
    }
}

// ---- reservations ----------------------------------------------------------------------------

TEST(ReserveRun, CreatesPartialFolderWithStampedRunId) {
    TempDir dir;
    fs::path tdir = runs::task_dir(dir.path(), kModel, "maze", kTask);
    auto now = Clock::now();
    runs::Reservation r = runs::reserve_run(tdir, kModel, kTask, now);
    EXPECT_EQ(r.run_id, runs::make_run_id(kModel, kTask, vmeval::run_stamp_local(now), 1));
    EXPECT_TRUE(std::regex_match(r.run_id, std::regex("baseline-still_maze_0001_\\d{8}_\\d{6}")))
        << r.run_id;
    EXPECT_EQ(r.partial, tdir / (std::string(runs::kPartialPrefix) + r.run_id));
    EXPECT_EQ(r.final, tdir / r.run_id);
    EXPECT_TRUE(fs::is_directory(r.partial));
    EXPECT_FALSE(fs::exists(r.final));
    EXPECT_TRUE(runs::list_runs(tdir, kModel, kTask).empty());
}

TEST(ReserveRun, RepeatedCallsInSameSecondGiveDistinctSuffixedIds) {
    TempDir dir;
    fs::path tdir = dir / "task";
    auto now = Clock::now();
    std::string stamp = vmeval::run_stamp_local(now);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(runs::reserve_run(tdir, kModel, kTask, now).run_id);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(ids[static_cast<size_t>(i)], runs::make_run_id(kModel, kTask, stamp, i + 1));
    }
}

TEST(ReserveRun, SkipsIdsOfPublishedRuns) {
    TempDir dir;
    fs::path tdir = dir / "task";
    auto now = Clock::now();
    std::string stamp = vmeval::run_stamp_local(now);
    auto first = runs::reserve_run(tdir, kModel, kTask, now);
    runs::publish_run(first);
    auto second = runs::reserve_run(tdir, kModel, kTask, now);
    EXPECT_EQ(second.run_id, runs::make_run_id(kModel, kTask, stamp, 2));
    runs::publish_run(second);
    // A completed run folder made by someone else (e.g. copied in) is not taken either.
    fs::create_directories(tdir / runs::make_run_id(kModel, kTask, stamp, 3));
    auto fourth = runs::reserve_run(tdir, kModel, kTask, now);
    EXPECT_EQ(fourth.run_id, runs::make_run_id(kModel, kTask, stamp, 4));
}

TEST(ReserveRun, ConcurrentThreadsNeverShareARunId) {
    TempDir dir;
    fs::path tdir = dir / "task";
    const auto now = Clock::now();
    constexpr int kThreads = 8;
    constexpr int kEach = 15;
    std::mutex m;
    std::vector<std::string> ids;
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < kEach; ++i) {
                auto r = runs::reserve_run(tdir, kModel, kTask, now);
                std::lock_guard<std::mutex> lock(m);
                ids.push_back(r.run_id);
            }
        });
    }
    for (auto& th : pool) th.join();
    std::set<std::string> unique(ids.begin(), ids.end());
    EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
    EXPECT_EQ(unique.size(), ids.size());
    for (const auto& id : ids) {
        EXPECT_TRUE(fs::is_directory(tdir / (std::string(runs::kPartialPrefix) + id))) << id;
        EXPECT_TRUE(runs::parse_run_id(id, kModel, kTask).has_value()) << id;
    }
}

TEST(ReserveRun, ConcurrentReserveAndPublishNeverShareARunId) {
    TempDir dir;
    fs::path tdir = dir / "task";
    const auto now = Clock::now();
    std::mutex m;
    std::vector<std::string> ids;
    std::vector<std::thread> pool;
    for (int t = 0; t < 6; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                auto r = runs::reserve_run(tdir, kModel, kTask, now);
                runs::publish_run(r);
                std::lock_guard<std::mutex> lock(m);
                ids.push_back(r.run_id);
            }
        });
    }
    for (auto& th : pool) th.join();
    std::set<std::string> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), 60u);
    EXPECT_EQ(runs::list_runs(tdir, kModel, kTask).size(), 60u);
    EXPECT_TRUE(hidden_entries_only_partial_free(tdir));
}

TEST(ReserveRun, UncreatableTaskFolderIsIoError) {
    TempDir dir;
    write_text(dir / "file", "not a folder");
    try {
        runs::reserve_run(dir / "file" / "task", kModel, kTask, Clock::now());
        FAIL() << "no error";
    } catch (const vmeval::Error& e) {
        EXPECT_EQ(e.code(), vmeval::ErrorCode::Io);
    }
}

TEST(PublishRun, MovesPartialIntoPlaceKeepingContent) {
    TempDir dir;
    fs::path tdir = dir / "task";
    auto r = runs::reserve_run(tdir, kModel, kTask, Clock::now());
    write_text(r.partial / "metadata.json", "{}");
    write_text(r.partial / "video" / "generated_video.mp4", "bytes");
    runs::publish_run(r);
    EXPECT_FALSE(fs::exists(r.partial));
    ASSERT_TRUE(fs::is_directory(r.final));
    EXPECT_TRUE(fs::exists(r.final / "metadata.json"));
    EXPECT_TRUE(fs::exists(r.final / "video" / "generated_video.mp4"));
    auto listed = runs::list_runs(tdir, kModel, kTask);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].run_id, r.run_id);
}

TEST(PublishRun, PublishedRunHoldsOnlyWhatTheRunWrote) {
    // The bookkeeping file that marks a partial's owner must not end up in the published run.
    TempDir dir;
    fs::path tdir = dir / "task";
    auto r = runs::reserve_run(tdir, kModel, kTask, Clock::now());
    write_text(r.partial / "metadata.json", "{}");
    runs::publish_run(r);
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(r.final))
        names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"metadata.json"});
}

TEST(PublishRun, MissingPartialIsIoError) {
    TempDir dir;
    runs::Reservation r{"x", dir / ".partial-x", dir / "x"};
    try {
        runs::publish_run(r);
        FAIL() << "no error";
    } catch (const vmeval::Error& e) {
        EXPECT_EQ(e.code(), vmeval::ErrorCode::Io);
    }
}

// ---- listing ---------------------------------------------------------------------------------

TEST(ListRuns, MissingTaskFolderGivesNothing) {
    TempDir dir;
    EXPECT_TRUE(runs::list_runs(dir / "nope", kModel, kTask).empty());
}

TEST(ListRuns, OrdersByStampThenNumericSuffix) {
    TempDir dir;
    fs::path tdir = dir / "task";
    for (const auto& [stamp, n] :
         std::vector<std::pair<std::string, int>>{{"20260115_093012", 10},
                                                  {"20260115_093012", 2},
                                                  {"20260116_000000", 1},
                                                  {"20260115_093012", 1},
                                                  {"20251231_235959", 3}}) {
        fs::create_directories(tdir / runs::make_run_id(kModel, kTask, stamp, n));
    }
    EXPECT_EQ(names_of(runs::list_runs(tdir, kModel, kTask)),
              (std::vector<std::string>{
                  runs::make_run_id(kModel, kTask, "20251231_235959", 3),
                  runs::make_run_id(kModel, kTask, "20260115_093012", 1),
                  runs::make_run_id(kModel, kTask, "20260115_093012", 2),
                  runs::make_run_id(kModel, kTask, "20260115_093012", 10),
                  runs::make_run_id(kModel, kTask, "20260116_000000", 1),
              }));
}

TEST(ListRuns, IgnoresPartialsFilesAndOtherNames) {
    TempDir dir;
    fs::path tdir = dir / "task";
    std::string good = runs::make_run_id(kModel, kTask, kStamp, 1);
    fs::create_directories(tdir / good);
    fs::create_directories(tdir / (std::string(runs::kPartialPrefix) +
                                   runs::make_run_id(kModel, kTask, "20991231_235959", 1)));
    fs::create_directories(tdir / runs::make_run_id("baseline-crossfade", kTask, kStamp, 1));
    fs::create_directories(tdir / "notes");
    write_text(tdir / runs::make_run_id(kModel, kTask, "20991231_235958", 1), "a file, not a run");
    EXPECT_EQ(names_of(runs::list_runs(tdir, kModel, kTask)), std::vector<std::string>{good});
}

TEST(ListRuns, ReservedButUnpublishedRunIsNotListed) {
    TempDir dir;
    fs::path tdir = dir / "task";
    auto r = runs::reserve_run(tdir, kModel, kTask, Clock::now());
    write_text(r.partial / "metadata.json", "{\"status\": \"success\"}");
    EXPECT_TRUE(runs::list_runs(tdir, kModel, kTask).empty());
}

// ---- stale partials --------------------------------------------------------------------------

TEST(RemoveStalePartials, DeletesPartialOfDeadProcessOnThisHost) {
    TempDir dir;
    fs::path tdir = dir / "task";
    fs::create_directories(tdir);
    // The child reserves a run the way a worker does, then dies without publishing it.
    pid_t pid = fork();
    if (pid == 0) {
        try {
            auto r = runs::reserve_run(tdir, kModel, kTask, Clock::now());
            write_text(r.partial / "video" / "generated_video.mp4", "half");
        } catch (...) {
            _exit(1);
        }
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_FALSE(hidden_entries_only_partial_free(tdir)) << "the child made no partial";

    runs::remove_stale_partials(tdir);
    EXPECT_TRUE(hidden_entries_only_partial_free(tdir));
}

TEST(RemoveStalePartials, DeletesPartialOwnedByNonexistentPid) {
    TempDir dir;
    fs::path tdir = dir / "task";
    pid_t pid = 4194303;  // PID_MAX_LIMIT - 1 on 64-bit Linux
    if (kill(pid, 0) == 0 || errno != ESRCH) pid = dead_pid();
    ASSERT_NE(kill(pid, 0), 0);
    fs::path partial = tdir / ".partial-baseline-still_maze_0001_20260115_093012";
    write_text(partial / "owner", this_host() + " " + std::to_string(pid) + "\n");
    runs::remove_stale_partials(tdir);
    EXPECT_FALSE(fs::exists(partial));
}

TEST(RemoveStalePartials, KeepsPartialOfLiveProcess) {
    TempDir dir;
    fs::path tdir = dir / "task";
    auto r = runs::reserve_run(tdir, kModel, kTask, Clock::now());  // owned by this process
    write_text(r.partial / "metadata.json", "{}");
    runs::remove_stale_partials(tdir);
    EXPECT_TRUE(fs::exists(r.partial / "metadata.json"));
    // ... and it can still be published afterwards.
    runs::publish_run(r);
    EXPECT_EQ(runs::list_runs(tdir, kModel, kTask).size(), 1u);
}

TEST(RemoveStalePartials, KeepsPartialOfOtherHost) {
    TempDir dir;
    fs::path tdir = dir / "task";
    fs::path partial = tdir / ".partial-baseline-still_maze_0001_20260115_093012";
    write_text(partial / "owner",
               "some-other-host-" + this_host() + " " + std::to_string(dead_pid()) + "\n");
    runs::remove_stale_partials(tdir);
    EXPECT_TRUE(fs::exists(partial));
}

TEST(RemoveStalePartials, KeepsFreshPartialWithoutOwnerFile) {
    // A worker that has just made the folder may not have written its owner file yet.
    TempDir dir;
    fs::path tdir = dir / "task";
    fs::path partial = tdir / ".partial-baseline-still_maze_0001_20260115_093012";
    fs::create_directories(partial);
    runs::remove_stale_partials(tdir);
    EXPECT_TRUE(fs::exists(partial));
}

TEST(RemoveStalePartials, DeletesOldPartialWithoutOwnerFile) {
    TempDir dir;
    fs::path tdir = dir / "task";
    fs::path partial = tdir / ".partial-baseline-still_maze_0001_20260115_093012";
    fs::create_directories(partial);
    fs::last_write_time(partial, fs::file_time_type::clock::now() - std::chrono::hours(2));
    runs::remove_stale_partials(tdir);
    EXPECT_FALSE(fs::exists(partial));
}

TEST(RemoveStalePartials, LeavesCompletedRunsAndOtherFoldersAlone) {
    TempDir dir;
    fs::path tdir = dir / "task";
    std::string done = runs::make_run_id(kModel, kTask, kStamp, 1);
    write_text(tdir / done / "metadata.json", "{}");
    write_text(tdir / "notes" / "owner", this_host() + " " + std::to_string(dead_pid()) + "\n");
    runs::remove_stale_partials(tdir);
    EXPECT_TRUE(fs::exists(tdir / done / "metadata.json"));
    EXPECT_TRUE(fs::exists(tdir / "notes" / "owner"));
}

TEST(RemoveStalePartials, MissingTaskFolderIsNotAnError) {
    TempDir dir;
    EXPECT_NO_THROW(runs::remove_stale_partials(dir / "missing"));
}

TEST(RemoveStalePartials, DeletesClaimOfDeadProcessKeepsLiveAndForeignOnes) {
    // A worker killed between taking a claim folder and renaming it to .partial-<run_id> leaves
    // `.claim-<pid>-<n>-<host>`; the owner is in the name, so it is attributable at once.
    vmeval::testkit::TempDir tmp;
    fs::path tdir = tmp / "task";
    const std::string dead = std::to_string(dead_pid());
    const fs::path mine_dead = tdir / (".claim-" + dead + "-0-" + this_host());
    const fs::path mine_live = tdir / (".claim-" + std::to_string(getpid()) + "-1-" + this_host());
    const fs::path foreign = tdir / (".claim-" + dead + "-2-elsewhere");
    for (const auto& p : {mine_dead, mine_live, foreign}) fs::create_directories(p);
    runs::remove_stale_partials(tdir);
    EXPECT_FALSE(fs::exists(mine_dead));
    EXPECT_TRUE(fs::exists(mine_live));
    EXPECT_TRUE(fs::exists(foreign));
}

TEST(ReserveRun, LeavesNoClaimFolderBehind) {
    vmeval::testkit::TempDir tmp;
    fs::path tdir = tmp / "task";
    auto now = vmeval::Clock::now();
    runs::reserve_run(tdir, "m", "t", now);
    runs::reserve_run(tdir, "m", "t", now);
    for (const auto& e : fs::directory_iterator(tdir)) {
        EXPECT_NE(e.path().filename().string().rfind(".claim-", 0), 0u) << e.path();
    }
}
