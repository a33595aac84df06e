#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/questions/question.hpp"

namespace vmeval::questions {
namespace {

namespace fs = std::filesystem;
using testkit::make_question;
using testkit::TempDir;
using testkit::write_text;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::vector<std::string> keys(const Discovery& d) {
    std::vector<std::string> out;
    for (const auto& q : d.questions) out.push_back(q.domain + "/" + q.id);
    return out;
}

std::string dump(const Discovery& d) {
    std::string out;
    for (const auto& p : d.problems) out += p.file.string() + ": " + p.message + "\n";
    return out;
}

class Discover : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path root = tmp / "questions";
};

TEST_F(Discover, SortsDomainsAndTasksInByteOrder) {
    make_question(root, "sorting", "b_1");
    make_question(root, "maze", "maze_10");
    make_question(root, "maze", "maze_9", false);
    make_question(root, "maze", "Maze_Z");
    make_question(root, "Zebra", "z");

    Discovery d = discover(root);
    EXPECT_TRUE(d.problems.empty()) << dump(d);
    EXPECT_EQ(d.domain_count, 3u);
    EXPECT_EQ(keys(d), (std::vector<std::string>{"Zebra/z", "maze/Maze_Z", "maze/maze_10",
                                                 "maze/maze_9", "sorting/b_1"}));
    const Question& q = d.questions[3];
    EXPECT_EQ(q.dir, fs::absolute(root / "maze_task/maze_9"));
    EXPECT_EQ(q.prompt, "Move the blue square to the goal.");
    EXPECT_FALSE(q.has_final_frame());
    EXPECT_TRUE(d.questions[2].has_final_frame());
    EXPECT_EQ(q.width, 64);
    EXPECT_EQ(q.height, 48);
    EXPECT_TRUE(d.unmatched_domains.empty());
    EXPECT_TRUE(d.unmatched_task_ids.empty());
}

TEST_F(Discover, IgnoresWhatIsNotAQuestion) {
    make_question(root, "maze", "maze_0000");
    fs::create_directories(root / "notes");            // no _task suffix
    fs::create_directories(root / ".cache_task/x");    // hidden
    fs::create_directories(root / "maze_task/.ipynb_checkpoints");
    write_text(root / "README.md", "about these questions");
    write_text(root / "old_task", "a file, not a folder");
    write_text(root / "maze_task/index.csv", "loose files in a domain are allowed");
    fs::create_directories(root / "maze_taskforce/t1");  // "_task" not a suffix

    Discovery d = discover(root);
    EXPECT_TRUE(d.problems.empty()) << dump(d);
    EXPECT_EQ(keys(d), (std::vector<std::string>{"maze/maze_0000"}));
    EXPECT_EQ(d.domain_count, 1u);
}

TEST_F(Discover, DomainIsTheNameWithoutOneSuffix) {
    make_question(root, "pick_task", "t1");  // folder pick_task_task
    Discovery d = discover(root);
    ASSERT_EQ(d.questions.size(), 1u) << dump(d);
    EXPECT_EQ(d.questions[0].domain, "pick_task");
    EXPECT_EQ(d.questions[0].domain_dir(), "pick_task_task");
}

TEST_F(Discover, BareSuffixFolderIsAProblem) {
    make_question(root, "maze", "maze_0000");
    fs::create_directories(root / "_task/t1");
    Discovery d = discover(root);
    EXPECT_EQ(d.questions.size(), 1u);
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].file.filename(), "_task");
    EXPECT_TRUE(contains(d.problems[0].message, "rename it to <domain>_task"));
}

TEST_F(Discover, EmptyDomainCountsButHasNoQuestions) {
    fs::create_directories(root / "maze_task");
    Discovery d = discover(root);
    EXPECT_EQ(d.domain_count, 1u);
    EXPECT_TRUE(d.questions.empty());
    EXPECT_TRUE(d.problems.empty()) << dump(d);
}

TEST_F(Discover, EmptyRootHasNothingAndNoProblems) {
    fs::create_directories(root);
    Discovery d = discover(root);
    EXPECT_EQ(d.domain_count, 0u);
    EXPECT_TRUE(d.questions.empty());
    EXPECT_TRUE(d.problems.empty()) << dump(d);
}

TEST_F(Discover, DomainFilterTakesBothSpellings) {
    make_question(root, "maze", "m1");
    make_question(root, "rotation", "r1");
    make_question(root, "sorting", "s1");
    DiscoveryOptions options;
    options.domains = {"maze", "sorting_task", "chess"};
    Discovery d = discover(root, options);
    EXPECT_EQ(keys(d), (std::vector<std::string>{"maze/m1", "sorting/s1"}));
    EXPECT_EQ(d.domain_count, 2u);
    EXPECT_EQ(d.unmatched_domains, std::vector<std::string>{"chess"});
}

TEST_F(Discover, FilteredOutDomainsAreNotChecked) {
    make_question(root, "maze", "m1");
    make_question(root, "broken", "b1");
    fs::remove(root / "broken_task/b1/prompt.txt");
    DiscoveryOptions options;
    options.domains = {"maze"};
    Discovery d = discover(root, options);
    EXPECT_TRUE(d.problems.empty()) << dump(d);
    EXPECT_EQ(d.questions.size(), 1u);
}

TEST_F(Discover, TaskFilterSpansDomains) {
    make_question(root, "maze", "t1");
    make_question(root, "maze", "t2");
    make_question(root, "sorting", "t1");
    make_question(root, "sorting", "t3");
    DiscoveryOptions options;
    options.task_ids = {"t1", "t3", "t9", "t9"};
    Discovery d = discover(root, options);
    EXPECT_EQ(keys(d), (std::vector<std::string>{"maze/t1", "sorting/t1", "sorting/t3"}));
    EXPECT_EQ(d.unmatched_task_ids, std::vector<std::string>{"t9"});
}

TEST_F(Discover, FiltersCombine) {
    make_question(root, "maze", "t1");
    make_question(root, "sorting", "t1");
    make_question(root, "sorting", "t2");
    DiscoveryOptions options;
    options.domains = {"sorting"};
    options.task_ids = {"t1", "t2"};
    Discovery d = discover(root, options);
    EXPECT_EQ(keys(d), (std::vector<std::string>{"sorting/t1", "sorting/t2"}));
    EXPECT_TRUE(d.unmatched_task_ids.empty());
    EXPECT_TRUE(d.unmatched_domains.empty());
}

TEST_F(Discover, BadQuestionInTheMiddleDoesNotStopTheWalk) {
    make_question(root, "maze", "a");
    make_question(root, "maze", "b");
    make_question(root, "maze", "c");
    make_question(root, "sorting", "d");
    write_text(root / "maze_task/b/prompt.txt", "   \n");
    fs::remove(root / "sorting_task/d/first_frame.png");
    make_question(root, "sorting", "e");

    Discovery d = discover(root);
    EXPECT_EQ(keys(d), (std::vector<std::string>{"maze/a", "maze/c", "sorting/e"}));
    ASSERT_EQ(d.problems.size(), 2u) << dump(d);
    EXPECT_EQ(d.problems[0].id, "b");
    EXPECT_EQ(d.problems[0].domain, "maze");
    EXPECT_EQ(d.problems[0].file, fs::absolute(root / "maze_task/b/prompt.txt"));
    EXPECT_TRUE(contains(d.problems[0].message, "prompt.txt is empty"));
    EXPECT_EQ(d.problems[1].id, "d");
    EXPECT_TRUE(contains(d.problems[1].message, "missing first_frame.png"));
}

TEST_F(Discover, DecodeOptionReachesEveryQuestion) {
    make_question(root, "maze", "a");
    fs::resize_file(root / "maze_task/a/first_frame.png", 60);
    EXPECT_TRUE(discover(root).problems.empty());
    DiscoveryOptions options;
    options.decode_images = true;
    Discovery d = discover(root, options);
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].file.filename(), "first_frame.png");
}

TEST_F(Discover, MissingRootThrowsConfig) {
    try {
        discover(tmp / "nope");
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_TRUE(contains(e.what(), "does not exist")) << e.what();
        EXPECT_TRUE(contains(e.what(), "--questions-dir")) << e.what();
        EXPECT_TRUE(contains(e.what(), (tmp / "nope").string())) << e.what();
    }
}

TEST_F(Discover, RootThatIsAFileThrowsConfig) {
    write_text(tmp / "questions.txt", "x");
    try {
        discover(tmp / "questions.txt");
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_TRUE(contains(e.what(), "is not a directory")) << e.what();
        EXPECT_TRUE(contains(e.what(), "--questions-dir")) << e.what();
    }
}

TEST_F(Discover, UnreadableRootThrowsConfig) {
    if (geteuid() == 0) GTEST_SKIP() << "running as root, which can list any folder";
    make_question(root, "maze", "a");
    fs::permissions(root, fs::perms::none);
    try {
        discover(root);
        ADD_FAILURE() << "expected an Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
    }
    fs::permissions(root, fs::perms::owner_all);
}

TEST_F(Discover, UnreadableDomainIsAProblem) {
    if (geteuid() == 0) GTEST_SKIP() << "running as root, which can list any folder";
    make_question(root, "maze", "a");
    make_question(root, "sorting", "b");
    fs::permissions(root / "maze_task", fs::perms::none);
    Discovery d = discover(root);
    fs::permissions(root / "maze_task", fs::perms::owner_all);
    EXPECT_EQ(keys(d), std::vector<std::string>{"sorting/b"});
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].domain, "maze");
}

TEST_F(Discover, RootPointingAtADomainFolderExplainsTheFix) {
    make_question(root, "maze", "a");
    make_question(root, "maze", "b");
    Discovery d = discover(root / "maze_task");
    EXPECT_TRUE(d.questions.empty());
    ASSERT_EQ(d.problems.size(), 1u);
    const Problem& p = d.problems[0];
    EXPECT_EQ(p.domain, "maze");
    EXPECT_TRUE(contains(p.message, "CONTAINS the <domain>_task folders")) << p.message;
    EXPECT_TRUE(contains(p.message, "--questions-dir " + fs::absolute(root).string()))
        << p.message;
}

TEST_F(Discover, RootWithTrailingSlashIsHandledAlike) {
    make_question(root, "maze", "a");
    Discovery d = discover(root.string() + "/maze_task/");
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_TRUE(contains(d.problems[0].message, "--questions-dir " + root.string()));
    EXPECT_EQ(discover(root.string() + "/").questions.size(), 1u);
}

TEST_F(Discover, RootPointingAtATaskFolderExplainsTheFix) {
    fs::path task = make_question(root, "maze", "a");
    Discovery d = discover(task);
    ASSERT_EQ(d.problems.size(), 1u);
    const Problem& p = d.problems[0];
    EXPECT_EQ(p.id, "a");
    EXPECT_EQ(p.domain, "maze");
    EXPECT_TRUE(contains(p.message, "single task folder")) << p.message;
    EXPECT_TRUE(contains(p.message, "--questions-dir " + root.string())) << p.message;
}

TEST_F(Discover, RootOneLevelTooHighNamesTheSubfolder) {
    make_question(root, "maze", "a");
    Discovery d = discover(tmp.path());
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_TRUE(contains(d.problems[0].message, "--questions-dir " + root.string()))
        << d.problems[0].message;
}

TEST_F(Discover, DomainFolderLinkedFromOutsideIsOneProblem) {
    make_question(tmp / "elsewhere", "maze", "a");
    make_question(tmp / "elsewhere", "maze", "b");
    make_question(root, "sorting", "s");
    fs::create_directory_symlink(tmp / "elsewhere/maze_task", root / "maze_task");
    Discovery d = discover(root);
    EXPECT_EQ(keys(d), std::vector<std::string>{"sorting/s"});
    ASSERT_EQ(d.problems.size(), 1u) << dump(d);
    EXPECT_EQ(d.problems[0].domain, "maze");
    EXPECT_TRUE(contains(d.problems[0].message, "outside the questions tree"));
}

TEST_F(Discover, DanglingTaskLinkIsReported) {
    make_question(root, "maze", "a");
    fs::create_directory_symlink(tmp / "gone", root / "maze_task/b");
    Discovery d = discover(root);
    EXPECT_EQ(keys(d), std::vector<std::string>{"maze/a"});
    ASSERT_EQ(d.problems.size(), 1u) << dump(d);
    EXPECT_EQ(d.problems[0].id, "b");
    EXPECT_TRUE(contains(d.problems[0].message, "dangling")) << d.problems[0].message;
}

TEST_F(Discover, TaskLinkInsideTheTreeIsFine) {
    make_question(root, "maze", "a");
    fs::create_directory_symlink("a", root / "maze_task/b");
    Discovery d = discover(root);
    EXPECT_TRUE(d.problems.empty()) << dump(d);
    EXPECT_EQ(keys(d), (std::vector<std::string>{"maze/a", "maze/b"}));
    EXPECT_EQ(d.questions[1].first_frame, fs::absolute(root / "maze_task/b/first_frame.png"));
}

TEST(DiscoverExamples, BundledTreeHasNoProblems) {
    const fs::path examples = testkit::source_dir() / "examples/questions";
    DiscoveryOptions options;
    options.decode_images = true;
    Discovery d = discover(examples, options);
    EXPECT_TRUE(d.problems.empty()) << dump(d);
    EXPECT_EQ(d.domain_count, 3u);
    ASSERT_EQ(d.questions.size(), 7u);
    int without_final = 0;
    for (const auto& q : d.questions) {
        if (!q.has_final_frame()) ++without_final;
        EXPECT_EQ(q.width, 256) << q.id;
        EXPECT_EQ(q.height, 192) << q.id;
        EXPECT_FALSE(q.prompt.empty()) << q.id;
    }
    EXPECT_EQ(without_final, 1) << "one question lacks final_frame.png on purpose";
    EXPECT_EQ(d.questions.front().id, "maze_0000");
}

}  // namespace
}  // namespace vmeval::questions
