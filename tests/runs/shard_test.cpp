// Splitting a batch between workers: static shards, and claims held by other workers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/batch_runner.hpp"
#include "vmeval/runs/claim.hpp"
#include "vmeval/runs/layout.hpp"

namespace {

using json = nlohmann::json;
using vmeval::testkit::make_question;
using vmeval::testkit::ScopedEnv;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;

vmeval::BatchOptions options(const fs::path& q, const fs::path& out) {
    vmeval::BatchOptions b;
    b.questions_dir = q;
    b.output_dir = out;
    b.models = {vmeval::registry::find_model("baseline-still")};
    b.quiet = true;
    b.params = vmeval::Params::parse({"frames=2"});
    return b;
}

std::set<std::string> succeeded(const json& summary) {
    std::set<std::string> ids;
    for (const auto& j : summary["jobs"]) {
        if (j["status"] == "success") ids.insert(j["task_id"].get<std::string>());
    }
    return ids;
}

TEST(Shard, ShardsPartitionTheQuestionsBrokenOnesIncluded) {
    TempDir dir;
    for (int i = 0; i < 7; ++i) make_question(dir / "q", i % 2 ? "maze" : "sort", "t" + std::to_string(i), false, 16, 16);
    // A broken question belongs to exactly one shard too.
    write_text(dir / "q/maze_task/t_broken/prompt.txt", "no image here");

    std::map<std::string, int> owners;
    int invalid_seen = 0;
    for (int i = 0; i < 3; ++i) {
        auto b = options(dir / "q", dir / "out");
        b.shard_index = i;
        b.shard_count = 3;
        auto r = vmeval::run_batch(b);
        EXPECT_EQ(r.summary["shard"]["index"], i);
        EXPECT_EQ(r.summary["shard"]["count"], 3);
        invalid_seen += r.summary["invalid_questions"].get<int>();
        for (const auto& id : succeeded(r.summary)) owners[id] += 1;
        EXPECT_GE(r.summary["questions"].get<int>(), 2);
    }
    EXPECT_EQ(owners.size(), 7u);
    for (const auto& [id, n] : owners) EXPECT_EQ(n, 1) << id;
    EXPECT_EQ(invalid_seen, 1);
}

TEST(Shard, RejectsAnImpossibleShard) {
    TempDir dir;
    make_question(dir / "q", "maze", "t0", false, 16, 16);
    auto b = options(dir / "q", dir / "out");
    b.shard_index = 3;
    b.shard_count = 3;
    try {
        vmeval::run_batch(b);
        FAIL() << "shard 3/3 accepted";
    } catch (const vmeval::Error& e) {
        EXPECT_EQ(e.code(), vmeval::ErrorCode::Usage);
    }
}

TEST(Shard, AShardWithNoQuestionsSucceedsQuietly) {
    TempDir dir;
    make_question(dir / "q", "maze", "t0", false, 16, 16);
    auto b = options(dir / "q", dir / "out");
    b.shard_index = 1;
    b.shard_count = 2;
    auto r = vmeval::run_batch(b);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.summary["questions"], 0);
}

TEST(Claims, WaitsForAnotherWorkersClaimAndTakesItOverWhenSilent) {
    TempDir dir;
    make_question(dir / "q", "maze", "t0", false, 16, 16);
    make_question(dir / "q", "maze", "t1", false, 16, 16);
    fs::path task = runs::task_dir(dir / "out", "baseline-still", "maze", "t1");
    // A worker on another machine that stopped beating, with its half-written run.
    write_text(task / runs::kQuestionClaimDir / "owner", "node9 777 tok\n");
    write_text(task / ".partial-baseline-still_t1_20260101_000000/owner", "node9 777\n");
    ScopedEnv stale("VMEVAL_CLAIM_STALE_S", "1");

    auto r = vmeval::run_batch(options(dir / "q", dir / "out"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(succeeded(r.summary), (std::set<std::string>{"t0", "t1"}));
    EXPECT_FALSE(fs::exists(task / ".partial-baseline-still_t1_20260101_000000"));
    EXPECT_FALSE(fs::exists(task / runs::kQuestionClaimDir));
    EXPECT_EQ(runs::list_runs(task, "baseline-still", "t1").size(), 1u);
}

TEST(Claims, AQuestionFinishedByAnotherWorkerMeanwhileIsSkipped) {
    TempDir dir;
    make_question(dir / "q", "maze", "t0", false, 16, 16);
    // The other worker holds the claim, then finishes its run and lets go while we wait.
    fs::path task = runs::task_dir(dir / "out", "baseline-still", "maze", "t0");
    auto other = runs::QuestionClaim::try_acquire(task, runs::ClaimTiming{});
    ASSERT_NE(other, nullptr);
    std::thread finisher([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        auto b = options(dir / "q", dir / "elsewhere");
        auto r = vmeval::run_batch(b);
        ASSERT_EQ(r.exit_code, 0);
        fs::path made = runs::task_dir(dir / "elsewhere", "baseline-still", "maze", "t0");
        auto list = runs::list_runs(made, "baseline-still", "t0");
        ASSERT_EQ(list.size(), 1u);
        fs::rename(made / list[0].run_id, task / list[0].run_id);
        other.reset();
    });
    auto r = vmeval::run_batch(options(dir / "q", dir / "out"));
    finisher.join();
    EXPECT_EQ(r.exit_code, 0);
    ASSERT_EQ(r.summary["jobs"].size(), 1u);
    EXPECT_EQ(r.summary["jobs"][0]["status"], "skipped");
    EXPECT_NE(r.summary["jobs"][0]["note"].get<std::string>().find("done by another worker"), std::string::npos);
    EXPECT_EQ(runs::list_runs(task, "baseline-still", "t0").size(), 1u);
}

}  // namespace
