// Contact sheets through the built binary: on by default, sized by --contact-sheet-frames, off with
// --no-contact-sheet.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/video/image.hpp"

namespace {

using vmeval::testkit::CommandResult;
using vmeval::testkit::make_question;
using vmeval::testkit::TempDir;
namespace fs = std::filesystem;
namespace runs = vmeval::runs;

CommandResult generate(const TempDir& tmp, std::vector<std::string> args) {
    std::vector<std::string> full{
        "--env-file",        (tmp / "no-such.env").string(), "-q", "generate", "--questions-dir",
        (tmp / "q").string()};
    full.insert(full.end(), args.begin(), args.end());
    return vmeval::testkit::run_vmeval(full);
}

std::string show(const CommandResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\n--- stdout\n" + r.out + "\n--- stderr\n" +
           r.err;
}

/// The one completed run of a model and task.
fs::path only_run(const fs::path& out, const std::string& model, const std::string& id) {
    auto list = runs::list_runs(runs::task_dir(out, model, "maze", id), model, id);
    if (list.size() != 1) {
        ADD_FAILURE() << list.size() << " runs of " << model << " " << id;
        return {};
    }
    return runs::task_dir(out, model, "maze", id) / list.front().run_id;
}

}  // namespace

TEST(ContactSheetE2E, BaselineRunsHaveSheetsNamedInMetadataAndTheGoalWidensThem) {
    TempDir tmp;
    make_question(tmp / "q", "maze", "maze_0001", /*with_final=*/true);
    make_question(tmp / "q", "maze", "maze_0002", /*with_final=*/false);
    auto r = generate(tmp, {"--output-dir", (tmp / "out").string(), "-m", "baseline-still"});
    ASSERT_EQ(r.exit_code, 0) << show(r);

    fs::path with_goal = only_run(tmp / "out", "baseline-still", "maze_0001");
    fs::path no_goal = only_run(tmp / "out", "baseline-still", "maze_0002");
    for (const fs::path& run : {with_goal, no_goal}) {
        ASSERT_TRUE(fs::is_regular_file(run / "contact_sheet.png")) << run;
        auto meta = runs::read_metadata(run);
        ASSERT_TRUE(meta.has_value());
        EXPECT_EQ((*meta)["contact_sheet"], "contact_sheet.png");
        EXPECT_FALSE(meta->contains("contact_sheet_error"));
    }
    auto a = vmeval::video::load_png(with_goal / "contact_sheet.png");
    auto b = vmeval::video::load_png(no_goal / "contact_sheet.png");
    EXPECT_EQ(a.height, b.height);
    EXPECT_GT(a.width, b.width) << "the goal thumbnail is on the first sheet only";
}

TEST(ContactSheetE2E, FramesOptionSizesTheSheetAndNoContactSheetTurnsItOff) {
    TempDir tmp;
    make_question(tmp / "q", "maze", "maze_0001", /*with_final=*/false);
    auto two =
        generate(tmp, {"--output-dir", (tmp / "two").string(), "--contact-sheet-frames", "2"});
    ASSERT_EQ(two.exit_code, 0) << show(two);
    auto six = generate(tmp, {"--output-dir", (tmp / "six").string()});
    ASSERT_EQ(six.exit_code, 0) << show(six);
    auto small = vmeval::video::load_png(only_run(tmp / "two", "baseline-still", "maze_0001") /
                                         "contact_sheet.png");
    auto wide = vmeval::video::load_png(only_run(tmp / "six", "baseline-still", "maze_0001") /
                                        "contact_sheet.png");
    EXPECT_GT(wide.width, small.width + 3 * 64) << "four more frame thumbnails";

    auto off = generate(tmp, {"--output-dir", (tmp / "off").string(), "--no-contact-sheet"});
    ASSERT_EQ(off.exit_code, 0) << show(off);
    fs::path run = only_run(tmp / "off", "baseline-still", "maze_0001");
    EXPECT_TRUE(fs::exists(run / "video" / "generated_video.mp4"));
    EXPECT_FALSE(fs::exists(run / "contact_sheet.png"));
    auto meta = runs::read_metadata(run);
    ASSERT_TRUE(meta.has_value());
    EXPECT_FALSE(meta->contains("contact_sheet"));

    auto bad =
        generate(tmp, {"--output-dir", (tmp / "bad").string(), "--contact-sheet-frames", "0"});
    EXPECT_EQ(bad.exit_code, 2) << show(bad);
}
