#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/testkit.hpp"
#include "vmeval/questions/question.hpp"

namespace vmeval::questions {
namespace {

namespace fs = std::filesystem;
using testkit::make_question;
using testkit::TempDir;
using testkit::write_test_png;
using testkit::write_text;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::uint32_t crc32(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char b : bytes) {
        crc ^= b;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

// A PNG signature and a well-formed IHDR claiming the given size, and nothing after it.
std::string png_header_bytes(std::uint32_t width, std::uint32_t height) {
    std::string body = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
    return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + body + be32(crc32(body));
}

// A task folder and the root it lives in, with a helper to run check_question on it.
class QuestionCheck : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path root = tmp / "questions";
    fs::path task = make_question(root, "maze", "maze_0001", true, 64, 48);
    Question q;
    Problem problem;

    bool check(bool decode = false) {
        return check_question(root, "maze", task, decode, q, problem);
    }
    void expect_problem(const fs::path& file, const std::string& part, bool decode = false) {
        ASSERT_FALSE(check(decode)) << "expected a problem with " << file;
        EXPECT_EQ(problem.file, file);
        EXPECT_EQ(problem.domain, "maze");
        EXPECT_EQ(problem.id, "maze_0001");
        EXPECT_TRUE(contains(problem.message, part))
            << "message: " << problem.message << "\nexpected to contain: " << part;
    }
};

TEST_F(QuestionCheck, GoodQuestionFillsEveryField) {
    write_text(task / "prompt.txt", "\xEF\xBB\xBF  Move the dot.\r\nThen stop.\r\n\r\n");
    ASSERT_TRUE(check()) << problem.message;
    EXPECT_EQ(q.domain, "maze");
    EXPECT_EQ(q.id, "maze_0001");
    EXPECT_EQ(q.domain_dir(), "maze_task");
    EXPECT_TRUE(q.dir.is_absolute());
    EXPECT_EQ(q.dir, fs::absolute(task));
    EXPECT_EQ(q.first_frame, fs::absolute(task / "first_frame.png"));
    EXPECT_EQ(q.final_frame, fs::absolute(task / "final_frame.png"));
    EXPECT_EQ(q.prompt_file, fs::absolute(task / "prompt.txt"));
    EXPECT_TRUE(q.has_final_frame());
    EXPECT_TRUE(q.ground_truth.empty());
    EXPECT_EQ(q.prompt, "Move the dot.\r\nThen stop.");
    EXPECT_EQ(q.width, 64);
    EXPECT_EQ(q.height, 48);
}

TEST_F(QuestionCheck, DecodingGivesTheSameResult) {
    ASSERT_TRUE(check(true)) << problem.message;
    EXPECT_EQ(q.width, 64);
    EXPECT_EQ(q.height, 48);
}

TEST_F(QuestionCheck, FinalFrameAndGroundTruthAreOptional) {
    fs::remove(task / "final_frame.png");
    ASSERT_TRUE(check()) << problem.message;
    EXPECT_FALSE(q.has_final_frame());
    EXPECT_TRUE(q.final_frame.empty());

    write_text(task / "ground_truth.mp4", "not decoded, only checked for being non-empty");
    ASSERT_TRUE(check()) << problem.message;
    EXPECT_EQ(q.ground_truth, fs::absolute(task / "ground_truth.mp4"));
}

TEST_F(QuestionCheck, RelativeTaskPathBecomesAbsolute) {
    fs::path old = fs::current_path();
    fs::current_path(tmp.path());
    const fs::path cwd = fs::current_path();
    bool ok =
        check_question("questions", "maze", "questions/maze_task/maze_0001/", false, q, problem);
    fs::current_path(old);
    ASSERT_TRUE(ok) << problem.message;
    EXPECT_EQ(q.dir, cwd / "questions/maze_task/maze_0001");
    EXPECT_EQ(q.first_frame, cwd / "questions/maze_task/maze_0001/first_frame.png");
}

TEST_F(QuestionCheck, MissingPrompt) {
    fs::remove(task / "prompt.txt");
    expect_problem(fs::absolute(task / "prompt.txt"), "missing prompt.txt: write the instruction");
    EXPECT_TRUE(contains(problem.message, (task / "prompt.txt").string()));
}

TEST_F(QuestionCheck, MissingPromptNamesALikelyMisnamedFile) {
    fs::rename(task / "prompt.txt", task / "Prompt.TXT");
    expect_problem(fs::absolute(task / "prompt.txt"), "found Prompt.TXT");
}

TEST_F(QuestionCheck, EmptyPrompt) {
    write_text(task / "prompt.txt", "");
    expect_problem(fs::absolute(task / "prompt.txt"), "prompt.txt is empty");
}

TEST_F(QuestionCheck, WhiteSpaceOnlyPrompt) {
    write_text(task / "prompt.txt", "\xEF\xBB\xBF \t\r\n\n  ");
    expect_problem(fs::absolute(task / "prompt.txt"), "prompt.txt is empty");
    EXPECT_TRUE(contains(problem.message, "white space"));
}

TEST_F(QuestionCheck, PromptThatIsAFolder) {
    fs::remove(task / "prompt.txt");
    fs::create_directory(task / "prompt.txt");
    expect_problem(fs::absolute(task / "prompt.txt"), "prompt.txt is a folder, not a file");
}

TEST_F(QuestionCheck, PromptThatIsANamedPipeIsNotOpened) {
    fs::remove(task / "prompt.txt");
    ASSERT_EQ(mkfifo((task / "prompt.txt").c_str(), 0644), 0);
    expect_problem(fs::absolute(task / "prompt.txt"), "named pipe");
}

TEST_F(QuestionCheck, UnreadablePrompt) {
    if (geteuid() == 0) {
        GTEST_SKIP() << "running as root, which reads files whatever their mode; the folder and "
                        "pipe cases cover the other unreadable prompts";
    }
    fs::permissions(task / "prompt.txt", fs::perms::none);
    expect_problem(fs::absolute(task / "prompt.txt"), "cannot read prompt.txt: Permission denied");
    EXPECT_TRUE(contains(problem.message, "chmod"));
    fs::permissions(task / "prompt.txt", fs::perms::owner_all);
}

TEST_F(QuestionCheck, PromptNotUtf8) {
    write_text(task / "prompt.txt", "Bewege den Punkt \xFC" "ber das Feld.");  // Latin-1 ü
    expect_problem(fs::absolute(task / "prompt.txt"),
                   "not valid UTF-8 (first bad byte at offset 17)");
}

TEST_F(QuestionCheck, PromptWithOverlongOrSurrogateUtf8) {
    write_text(task / "prompt.txt", "slash \xC0\xAF");
    expect_problem(fs::absolute(task / "prompt.txt"), "not valid UTF-8");
    write_text(task / "prompt.txt", "surrogate \xED\xA0\x80");
    expect_problem(fs::absolute(task / "prompt.txt"), "not valid UTF-8");
    write_text(task / "prompt.txt", "cut short \xE2\x80");
    expect_problem(fs::absolute(task / "prompt.txt"), "not valid UTF-8");
}

TEST_F(QuestionCheck, PromptInOtherScriptsIsFine) {
    // French, an em dash, Chinese and an emoji: two-, three- and four-byte sequences.
    const std::string text =
        "D\xC3\xA9placez le point \xE2\x80\x94 \xE8\xBF\xB7\xE8\xB7\xAF \xF0\x9F\x99\x82";
    write_text(task / "prompt.txt", text + "\n");
    ASSERT_TRUE(check()) << problem.message;
    EXPECT_EQ(q.prompt, text);
}

TEST_F(QuestionCheck, PromptWithNulByte) {
    write_text(task / "prompt.txt", std::string("Move\0 the dot", 13));
    expect_problem(fs::absolute(task / "prompt.txt"), "NUL byte");
}

TEST_F(QuestionCheck, AbsurdlyLargePrompt) {
    write_text(task / "prompt.txt", std::string(64 * 1024, 'a'));
    ASSERT_TRUE(check()) << "exactly 64 KiB is allowed: " << problem.message;
    write_text(task / "prompt.txt", std::string(64 * 1024 + 1, 'a'));
    expect_problem(fs::absolute(task / "prompt.txt"), "65537 bytes, more than the 64 KiB");
}

TEST_F(QuestionCheck, MissingFirstFrame) {
    fs::remove(task / "first_frame.png");
    expect_problem(fs::absolute(task / "first_frame.png"), "missing first_frame.png");
}

TEST_F(QuestionCheck, MissingFirstFrameNamesAJpegNextToIt) {
    fs::rename(task / "first_frame.png", task / "first_frame.jpg");
    expect_problem(fs::absolute(task / "first_frame.png"), "found first_frame.jpg");
}

TEST_F(QuestionCheck, FirstFrameThatIsJpeg) {
    write_text(task / "first_frame.png", std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11) +
                                             std::string(200, '\x11'));
    for (bool decode : {false, true}) {
        expect_problem(fs::absolute(task / "first_frame.png"), "first_frame.png", decode);
        EXPECT_TRUE(contains(problem.message, "JPEG")) << problem.message;
        // The path is in Problem.file; the message names the file without repeating it.
        EXPECT_FALSE(contains(problem.message, task.string())) << problem.message;
    }
}

TEST_F(QuestionCheck, FirstFrameThatIsAFolder) {
    fs::remove(task / "first_frame.png");
    fs::create_directory(task / "first_frame.png");
    expect_problem(fs::absolute(task / "first_frame.png"), "first_frame.png is a folder");
}

TEST_F(QuestionCheck, TruncatedPngFailsOnlyWhenDecoded) {
    fs::path png = task / "first_frame.png";
    auto size = fs::file_size(png);
    ASSERT_GT(size, 80u);
    fs::resize_file(png, 60);  // the signature and IHDR survive, the pixel data does not

    ASSERT_TRUE(check(false)) << "header-only mode reads the intact header: " << problem.message;
    EXPECT_EQ(q.width, 64);
    expect_problem(fs::absolute(png), "first_frame.png", true);
}

TEST_F(QuestionCheck, AbsurdDimensions) {
    write_text(task / "first_frame.png", png_header_bytes(100000, 20));
    expect_problem(fs::absolute(task / "first_frame.png"), "100000x20");
    write_text(task / "first_frame.png", png_header_bytes(0, 0));
    expect_problem(fs::absolute(task / "first_frame.png"), "first_frame.png");
    write_text(task / "first_frame.png", png_header_bytes(4, 4));
    expect_problem(fs::absolute(task / "first_frame.png"), "4x4");
}

TEST_F(QuestionCheck, BrokenFinalFrameRejectsTheQuestion) {
    write_text(task / "final_frame.png", "this is not an image");
    expect_problem(fs::absolute(task / "final_frame.png"), "final_frame.png");
    EXPECT_TRUE(contains(problem.message, "optional")) << problem.message;
    EXPECT_TRUE(contains(problem.message, "delete it")) << problem.message;
}

TEST_F(QuestionCheck, FinalFrameThatDoesNotDecode) {
    fs::resize_file(task / "final_frame.png", 60);
    ASSERT_TRUE(check(false)) << problem.message;
    expect_problem(fs::absolute(task / "final_frame.png"), "final_frame.png", true);
}

TEST_F(QuestionCheck, EmptyOrFolderGroundTruth) {
    write_text(task / "ground_truth.mp4", "");
    expect_problem(fs::absolute(task / "ground_truth.mp4"), "ground_truth.mp4 is empty");
    fs::remove(task / "ground_truth.mp4");
    fs::create_directory(task / "ground_truth.mp4");
    expect_problem(fs::absolute(task / "ground_truth.mp4"), "ground_truth.mp4 is a folder");
}

TEST_F(QuestionCheck, SymlinkOutsideTheTreeIsRefused) {
    write_text(tmp / "elsewhere/prompt.txt", "Move the dot.");
    fs::remove(task / "prompt.txt");
    fs::create_symlink(tmp / "elsewhere/prompt.txt", task / "prompt.txt");
    expect_problem(fs::absolute(task / "prompt.txt"), "outside the questions tree");
    EXPECT_TRUE(contains(problem.message, "is a symlink to"));
    EXPECT_TRUE(contains(problem.message, "copy the file in instead"));
}

TEST_F(QuestionCheck, RelativeSymlinkClimbingOutIsRefused) {
    write_test_png(tmp / "outside.png", 32, 32);
    fs::remove(task / "final_frame.png");
    fs::create_symlink("../../../outside.png", task / "final_frame.png");
    expect_problem(fs::absolute(task / "final_frame.png"), "outside the questions tree");
}

TEST_F(QuestionCheck, SiblingWithSharedPrefixIsOutside) {
    // "/tmp/x/questions2" starts with the characters of "/tmp/x/questions" but is not inside it.
    write_test_png(tmp / "questions2/first.png", 32, 32);
    fs::remove(task / "first_frame.png");
    fs::create_symlink(tmp / "questions2/first.png", task / "first_frame.png");
    expect_problem(fs::absolute(task / "first_frame.png"), "outside the questions tree");
}

TEST_F(QuestionCheck, SymlinkInsideTheTreeIsFine) {
    write_test_png(root / "shared/start.png", 40, 32);
    fs::remove(task / "first_frame.png");
    fs::create_symlink("../../shared/start.png", task / "first_frame.png");
    ASSERT_TRUE(check(true)) << problem.message;
    // The path inside the tree is kept, not the link's target.
    EXPECT_EQ(q.first_frame, fs::absolute(task / "first_frame.png"));
    EXPECT_EQ(q.width, 40);
}

TEST_F(QuestionCheck, RootGivenThroughASymlinkStillWorks) {
    fs::create_directory_symlink(root, tmp / "link_to_questions");
    ASSERT_TRUE(check_question(tmp / "link_to_questions", "maze",
                               tmp / "link_to_questions/maze_task/maze_0001", false, q, problem))
        << problem.message;
    EXPECT_EQ(q.dir, tmp / "link_to_questions/maze_task/maze_0001");
}

TEST_F(QuestionCheck, DanglingSymlink) {
    fs::remove(task / "final_frame.png");
    fs::create_symlink(task / "gone.png", task / "final_frame.png");
    expect_problem(fs::absolute(task / "final_frame.png"), "does not exist (a dangling link)");
    EXPECT_TRUE(contains(problem.message, "optional")) << problem.message;
}

TEST_F(QuestionCheck, SymlinkLoop) {
    fs::remove(task / "prompt.txt");
    fs::create_symlink("prompt.txt", task / "prompt.txt");
    expect_problem(fs::absolute(task / "prompt.txt"), "prompt.txt");
}

TEST_F(QuestionCheck, TaskFolderLinkedFromOutside) {
    make_question(tmp / "other", "maze", "real_task");
    fs::path link = root / "maze_task" / "linked";
    fs::create_directory_symlink(tmp / "other/maze_task/real_task", link);
    ASSERT_FALSE(check_question(root, "maze", link, false, q, problem));
    EXPECT_EQ(problem.file, link);
    EXPECT_EQ(problem.id, "linked");
    EXPECT_TRUE(contains(problem.message, "outside the questions tree")) << problem.message;
}

TEST_F(QuestionCheck, FailureLeavesOutputUntouched) {
    q.id = "sentinel";
    fs::remove(task / "prompt.txt");
    ASSERT_FALSE(check());
    EXPECT_EQ(q.id, "sentinel");
}

}  // namespace
}  // namespace vmeval::questions
