#include "vmeval/video/contact_sheet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "src/video/text.hpp"
#include "support/testkit.hpp"
#include "video/fixtures.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/runs/inference_runner.hpp"
#include "vmeval/runs/metadata.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::make_question;
using vmeval::testkit::moving_square;
using vmeval::testkit::solid;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_video;
using vmeval::testkit::zero_media_data;
namespace video = vmeval::video;
namespace fs = std::filesystem;

using Colour = std::array<std::uint8_t, 3>;
constexpr Colour kRed{255, 0, 0};
constexpr Colour kGreen{0, 255, 0};
constexpr Colour kBlue{0, 0, 255};

struct Run {
    Colour colour;
    int start;
    int length;
};

// Horizontal runs of exactly red, green or blue pixels in row y: the thumbnails of solid images.
std::vector<Run> thumbnail_runs(const video::Image& img, int y) {
    std::vector<Run> runs;
    for (int x = 0; x < img.width; ++x) {
        const std::uint8_t* p = img.row(y) + x * 3;
        Colour c{p[0], p[1], p[2]};
        if (c != kRed && c != kGreen && c != kBlue) continue;
        if (!runs.empty() && runs.back().colour == c &&
            runs.back().start + runs.back().length == x) {
            ++runs.back().length;
        } else {
            runs.push_back({c, x, 1});
        }
    }
    return runs;
}

// The first row holding a red pixel: the top row of the input thumbnail.
int first_row_with(const video::Image& img, Colour c) {
    for (int y = 0; y < img.height; ++y) {
        for (int x = 0; x < img.width; ++x) {
            const std::uint8_t* p = img.row(y) + x * 3;
            if (Colour{p[0], p[1], p[2]} == c) return y;
        }
    }
    return -1;
}

bool has_colour(const video::Image& img, int y0, int y1, Colour c) {
    for (int y = std::max(0, y0); y < std::min(img.height, y1); ++y) {
        for (int x = 0; x < img.width; ++x) {
            const std::uint8_t* p = img.row(y) + x * 3;
            if (Colour{p[0], p[1], p[2]} == c) return true;
        }
    }
    return false;
}

video::ContactSheet solid_sheet(const video::Image* input, const video::Image* goal, int frames) {
    video::ContactSheet s;
    s.input = input;
    s.goal = goal;
    for (int i = 0; i < frames; ++i) {
        s.frames.push_back(solid(64, 48, kGreen));
        s.labels.push_back(std::to_string(i) + ".00s");
    }
    s.title = "baseline-still   maze/maze_0000   generated in 0.01 s";
    s.subtitle = "Move the dot to the goal.";
    s.thumb_height = 48;
    return s;
}

}  // namespace

TEST(PickFrames, EvenlySpacedEndingWithTheLastFrame) {
    EXPECT_EQ(video::pick_frames(16, 6), (std::vector<int>{3, 5, 8, 10, 13, 15}));
    EXPECT_EQ(video::pick_frames(25, 4), (std::vector<int>{6, 12, 18, 24}));
    EXPECT_EQ(video::pick_frames(7, 1), (std::vector<int>{6}));
    EXPECT_EQ(video::pick_frames(3, 6), (std::vector<int>{0, 1, 2}))
        << "short videos show every frame";
    EXPECT_TRUE(video::pick_frames(0, 6).empty());
    EXPECT_TRUE(video::pick_frames(10, 0).empty());
    for (int total = 1; total < 80; ++total) {
        for (int count = 1; count < 12; ++count) {
            auto p = video::pick_frames(total, count);
            ASSERT_EQ(static_cast<int>(p.size()), std::min(total, count)) << total << " " << count;
            EXPECT_EQ(p.back(), total - 1) << total << " " << count;
            for (size_t i = 1; i < p.size(); ++i)
                EXPECT_LT(p[i - 1], p[i]) << total << " " << count;
        }
    }
}

TEST(ComposeContactSheet, ThumbnailsInOrderWithInputAndGoalSetApart) {
    const video::Image input = solid(64, 48, kRed);
    const video::Image goal = solid(64, 48, kBlue);
    const video::Image sheet = video::compose_contact_sheet(solid_sheet(&input, &goal, 3));

    const int top = first_row_with(sheet, kRed);
    ASSERT_GT(top, 0) << "the caption bar comes first";
    EXPECT_EQ(first_row_with(sheet, kGreen), top) << "every thumbnail has the same height";
    EXPECT_EQ(first_row_with(sheet, kBlue), top);
    auto runs = thumbnail_runs(sheet, top + 24);
    ASSERT_EQ(runs.size(), 5u);
    const std::vector<Colour> order = {kRed, kGreen, kGreen, kGreen, kBlue};
    for (size_t i = 0; i < runs.size(); ++i) {
        EXPECT_EQ(runs[i].colour, order[i]) << i;
        EXPECT_EQ(runs[i].length, 64) << i;
    }
    // Input and goal stand apart from the generated frames by a wider gap than frames between
    // themselves.
    const int frame_gap = runs[2].start - (runs[1].start + 64);
    EXPECT_GT(runs[1].start - (runs[0].start + 64), 2 * frame_gap);
    EXPECT_GT(runs[4].start - (runs[3].start + 64), 2 * frame_gap);
    EXPECT_FALSE(has_colour(sheet, top + 48, sheet.height, kGreen))
        << "nothing below is a thumbnail";
}

TEST(ComposeContactSheet, GoalWidensTheSheetAndItsAbsenceLeavesNoBlueThumbnail) {
    const video::Image input = solid(64, 48, kRed);
    const video::Image goal = solid(64, 48, kBlue);
    const video::Image with = video::compose_contact_sheet(solid_sheet(&input, &goal, 3));
    const video::Image without = video::compose_contact_sheet(solid_sheet(&input, nullptr, 3));
    EXPECT_EQ(with.height, without.height);
    EXPECT_GT(with.width - without.width, 64) << "the goal and its separation";
    EXPECT_LT(with.width - without.width, 2 * 64);
    EXPECT_FALSE(has_colour(without, 0, without.height, kBlue));
    auto runs = thumbnail_runs(without, first_row_with(without, kRed) + 10);
    ASSERT_EQ(runs.size(), 4u);
    EXPECT_EQ(runs.back().colour, kGreen);

    const video::Image more = video::compose_contact_sheet(solid_sheet(&input, &goal, 6));
    EXPECT_EQ(more.width - with.width, 3 * (runs[2].start - runs[1].start))
        << "one pitch per frame";
}

TEST(ComposeContactSheet, AspectIsKeptAndSmallImagesAreEnlargedWithoutBlur) {
    video::ContactSheet s;
    const video::Image wide = solid(128, 48, kRed);
    s.input = &wide;
    s.frames.push_back(solid(24, 48, kGreen));  // tall: half as wide as high
    s.frames.push_back(solid(16, 12, kBlue));   // 4:3 and small: enlarged to 64x48
    s.labels = {"a", "b"};
    s.title = "t";
    s.thumb_height = 48;
    const video::Image sheet = video::compose_contact_sheet(s);
    const int top = first_row_with(sheet, kRed);
    auto runs = thumbnail_runs(sheet, top + 30);
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].length, 128);
    EXPECT_EQ(runs[1].length, 24);
    EXPECT_EQ(runs[2].length, 64);
    EXPECT_EQ(first_row_with(sheet, kBlue), top);
    EXPECT_FALSE(has_colour(sheet, top + 48, sheet.height, kBlue)) << "48 rows high, exact colour";
}

TEST(ComposeContactSheet, CaptionAndLabelsAreDrawn) {
    const video::Image input = solid(64, 48, kRed);
    video::ContactSheet s = solid_sheet(&input, nullptr, 2);
    const video::Image sheet = video::compose_contact_sheet(s);
    const int top = first_row_with(sheet, kRed);
    // The title is near-white, the input label blue-ish: both are in the image, above and below.
    EXPECT_TRUE(has_colour(sheet, 0, top, {245, 245, 245}));
    EXPECT_TRUE(has_colour(sheet, top + 48, sheet.height, {110, 170, 255}));
    s.title.clear();
    const video::Image untitled = video::compose_contact_sheet(s);
    EXPECT_FALSE(has_colour(untitled, 0, top, {245, 245, 245}));
}

TEST(ComposeContactSheet, RejectsNothingToShow) {
    video::ContactSheet s;
    try {
        video::compose_contact_sheet(s);
        FAIL() << "an empty sheet was composed";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Internal);
    }
}

TEST(SheetText, NonAsciiIsReplacedAndLongTextIsShortened) {
    namespace text = vmeval::video::text;
    EXPECT_EQ(text::printable("caf\xc3\xa9\tok\n"), "caf?? ok ");
    const std::string long_text(300, 'x');
    const std::string fitted = text::fit(long_text, 2, 200);
    EXPECT_LE(text::width(fitted, 2), 200);
    EXPECT_EQ(fitted.substr(fitted.size() - 3), "...");
    EXPECT_EQ(text::fit("short", 2, 200), "short");
    EXPECT_EQ(text::width("ab", 2), 2 * text::width("ab", 1));
    video::Image img(40, 30);
    text::draw(img, 30, 20, "\xff\x01 clipped at the edge", 3,
               {9, 9, 9});  // must neither crash nor overflow
    EXPECT_TRUE(has_colour(img, 20, 30, {9, 9, 9}));
}

TEST(WriteContactSheet, VideoFramesLandOnTheSheetWithTheGoalWhenGiven) {
    TempDir dir;
    std::vector<video::Image> frames;
    for (int i = 0; i < 10; ++i)
        frames.push_back(i == 9 ? solid(64, 48, kBlue) : moving_square(64, 48, i));
    write_video(dir / "v.mp4", frames);
    const video::Image input = solid(64, 48, kRed);
    const video::Image goal = solid(64, 48, kGreen);
    video::RunSheetRequest r;
    r.video = dir / "v.mp4";
    r.video_frames = 10;
    r.fps = 8;
    r.input = &input;
    r.goal = &goal;
    r.model = "baseline-still";
    r.question = "maze/maze_0000";
    r.prompt = "Move the dot.";
    r.generation_s = 0.5;
    r.frames = 3;
    video::write_contact_sheet(dir / "with.png", r);
    r.goal = nullptr;
    video::write_contact_sheet(dir / "without.png", r);

    const video::Image with = video::load_png(dir / "with.png");
    const video::Image without = video::load_png(dir / "without.png");
    EXPECT_GT(with.width, without.width);
    EXPECT_EQ(with.height, without.height);
    // The last generated frame (solid blue, through the codec) sits just left of the goal.
    const int top = first_row_with(with, kGreen);
    ASSERT_GT(top, 0);
    auto runs = thumbnail_runs(with, top + 24);
    ASSERT_FALSE(runs.empty());
    const int goal_x = runs.back().start;
    int blue_x = goal_x - 1;
    while (blue_x > 0) {
        const std::uint8_t* p = with.row(top + 24) + blue_x * 3;
        if (p[2] > 200 && p[0] < 40 && p[1] < 40) break;
        --blue_x;
    }
    EXPECT_GT(blue_x, goal_x - 40) << "no blue last frame next to the goal";
}

TEST(WriteContactSheet, UndecodableVideoThrowsVideoErrorAndWritesNothing) {
    TempDir dir;
    write_video(dir / "v.mp4", {moving_square(32, 32, 0), moving_square(32, 32, 1)});
    zero_media_data(dir / "v.mp4");
    const video::Image input = solid(32, 32, kRed);
    video::RunSheetRequest r;
    r.video = dir / "v.mp4";
    r.video_frames = 2;
    r.fps = 8;
    r.input = &input;
    try {
        video::write_contact_sheet(dir / "sheet.png", r);
        FAIL() << "a sheet was made from an undecodable video";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Video) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "sheet.png"));
}

// ---- the runner: a sheet with every successful run, never a failed run because of one ---------

namespace {

vmeval::registry::ModelInfo test_model(const char* name) {
    return vmeval::registry::ModelInfo{name,
                                       "Tests",
                                       vmeval::registry::Kind::Baseline,
                                       vmeval::registry::Backend::Baseline,
                                       "",
                                       "test stand-in",
                                       "",
                                       "",
                                       {},
                                       ""};
}

/// Writes a video whose index is intact and whose frames are zeros: it probes, it does not decode.
class UndecodableWrapper : public vmeval::ModelWrapper {
public:
    vmeval::GenerationResult generate(const vmeval::GenerationRequest& r) override {
        write_video(r.video_path, {moving_square(32, 32, 0), moving_square(32, 32, 1)});
        zero_media_data(r.video_path);
        return {};
    }
};

vmeval::questions::Question question_in(const fs::path& root) {
    make_question(root, "maze", "maze_0001");
    vmeval::questions::Question q;
    q.domain = "maze";
    q.id = "maze_0001";
    q.dir = root / "maze_task" / "maze_0001";
    q.first_frame = q.dir / "first_frame.png";
    q.final_frame = q.dir / "final_frame.png";
    q.prompt_file = q.dir / "prompt.txt";
    q.prompt = "Move the dot.";
    return q;
}

}  // namespace

TEST(RunnerContactSheet, SuccessfulRunHasASheetNamedInMetadata) {
    TempDir dir;
    auto q = question_in(dir / "q");
    vmeval::InferenceRunner runner(dir / "out");
    auto r = runner.run_question(*vmeval::registry::find_model("baseline-still"), q, {});
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_TRUE(fs::is_regular_file(r.run_dir / "contact_sheet.png"));
    EXPECT_EQ(r.metadata["contact_sheet"], "contact_sheet.png");
    EXPECT_FALSE(r.metadata.contains("contact_sheet_error"));
    EXPECT_TRUE(r.metadata["timings"]["phases"].contains("contact_sheet"));
    const video::Image sheet = video::load_png(r.run_dir / "contact_sheet.png");
    EXPECT_GT(sheet.width, sheet.height);

    vmeval::RunOptions off;
    off.contact_sheet = false;
    auto r2 = runner.run_question(*vmeval::registry::find_model("baseline-still"), q, off);
    ASSERT_TRUE(r2.success) << r2.error_message;
    EXPECT_FALSE(fs::exists(r2.run_dir / "contact_sheet.png"));
    EXPECT_FALSE(r2.metadata.contains("contact_sheet"));
}

TEST(RunnerContactSheet, UndecodableVideoGivesAWarningNotAFailedRun) {
    TempDir dir;
    auto q = question_in(dir / "q");
    vmeval::InferenceRunner runner(dir / "out");
    runner.use_wrapper("test-undecodable", std::make_unique<UndecodableWrapper>());
    auto r = runner.run_question(test_model("test-undecodable"), q, {});
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_EQ(r.metadata["status"], "success");
    EXPECT_FALSE(fs::exists(r.run_dir / "contact_sheet.png"));
    EXPECT_FALSE(r.metadata.contains("contact_sheet"));
    ASSERT_TRUE(r.metadata.contains("contact_sheet_error"));
    const std::string why = r.metadata["contact_sheet_error"];
    EXPECT_NE(why.find("generated_video.mp4"), std::string::npos) << why;
    auto on_disk = vmeval::runs::read_metadata(r.run_dir);
    ASSERT_TRUE(on_disk.has_value());
    EXPECT_EQ((*on_disk)["contact_sheet_error"], why);
}
