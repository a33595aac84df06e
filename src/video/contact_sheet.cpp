#include "vmeval/video/contact_sheet.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "text.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/video/frame_reader.hpp"
#include "vmeval/video/png_encode.hpp"

namespace vmeval::video {

namespace {

// Layout in pixels. Text is stb_easy_font at twice its native size: its 1-unit strokes become 2 px,
// which stays legible when the gallery shows the sheet scaled down.
constexpr int kTextScale = 2;
constexpr int kMargin = 16;
constexpr int kGap = 6;        // between generated frames
constexpr int kGroupGap = 30;  // around the generated frames, with a divider in the middle
constexpr int kDivider = 2;
constexpr int kOutline = 2;  // around the input and goal thumbnails
constexpr int kLabelGap = 8;
constexpr int kCaptionLineGap = 6;

constexpr text::RGB kBackground{24, 24, 27};
constexpr text::RGB kCaptionBar{39, 39, 44};
constexpr text::RGB kTitle{245, 245, 245};
constexpr text::RGB kSubtitle{165, 165, 175};
constexpr text::RGB kFrameLabel{200, 200, 205};
constexpr text::RGB kInputColor{110, 170, 255};
constexpr text::RGB kGoalColor{105, 215, 125};
constexpr text::RGB kDividerColor{80, 80, 90};

void fill(Image& img, int x, int y, int w, int h, text::RGB c) {
    const int x0 = std::max(0, x), y0 = std::max(0, y);
    const int x1 = std::min(img.width, x + w), y1 = std::min(img.height, y + h);
    for (int py = y0; py < y1; ++py) {
        std::uint8_t* p = img.row(py) + static_cast<size_t>(x0) * 3;
        for (int px = x0; px < x1; ++px, p += 3) std::memcpy(p, c.data(), 3);
    }
}

void blit(Image& dst, const Image& src, int x, int y) {
    for (int row = 0; row < src.height; ++row) {
        std::memcpy(dst.row(y + row) + static_cast<size_t>(x) * 3, src.row(row),
                    static_cast<size_t>(src.width) * 3);
    }
}

// Each thumbnail pixel is the mean of the source pixels it covers, or the nearest one when
// enlarging (drawn puzzles stay crisp). Shrinking 2-8x this way looks as good as a windowed filter
// at a tenth of the cost, which matters at one sheet per run.
Image thumbnail(const Image& src, int height) {
    const double aspect = static_cast<double>(src.width) / src.height;
    const int width = std::clamp(static_cast<int>(std::lround(height * aspect)), 1, 4 * height);
    if (width == src.width && height == src.height) return src;
    auto edges = [](int from, int to) {
        std::vector<int> e(static_cast<size_t>(to) + 1);
        for (int i = 0; i <= to; ++i)
            e[i] = static_cast<int>(static_cast<long long>(i) * from / to);
        return e;
    };
    const std::vector<int> xs = edges(src.width, width);
    const std::vector<int> ys = edges(src.height, height);
    Image out(width, height);
    std::vector<std::uint32_t> sum(static_cast<size_t>(width) * 3);
    for (int y = 0; y < height; ++y) {
        const int y0 = ys[y], y1 = std::max(ys[y] + 1, ys[y + 1]);
        std::fill(sum.begin(), sum.end(), 0u);
        for (int sy = y0; sy < y1; ++sy) {
            const std::uint8_t* in = src.row(sy);
            for (int x = 0; x < width; ++x) {
                const int x1 = std::max(xs[x] + 1, xs[x + 1]);
                std::uint32_t* acc = &sum[static_cast<size_t>(x) * 3];
                for (int sx = xs[x]; sx < x1; ++sx) {
                    acc[0] += in[sx * 3];
                    acc[1] += in[sx * 3 + 1];
                    acc[2] += in[sx * 3 + 2];
                }
            }
        }
        std::uint8_t* o = out.row(y);
        for (int x = 0; x < width; ++x) {
            const std::uint32_t n =
                static_cast<std::uint32_t>((y1 - y0) * (std::max(xs[x] + 1, xs[x + 1]) - xs[x]));
            for (int c = 0; c < 3; ++c)
                o[x * 3 + c] = static_cast<std::uint8_t>((sum[x * 3 + c] + n / 2) / n);
        }
    }
    return out;
}

struct Cell {
    Image thumb;
    std::string label;
    text::RGB color;
    bool outlined;
    int x = 0;
};

std::string seconds_text(double s) {
    char buf[32];
    if (s < 60) {
        std::snprintf(buf, sizeof buf, s < 10 ? "%.2f s" : "%.1f s", s);
    } else {
        const long total = std::lround(s);
        std::snprintf(buf, sizeof buf, "%ldm %02lds", total / 60, total % 60);
    }
    return buf;
}

bool valid(const Image& img) {
    return img.width > 0 && img.height > 0 &&
           img.rgb.size() == static_cast<size_t>(img.width) * img.height * 3;
}

}  // namespace

std::vector<int> pick_frames(int total, int count) {
    std::vector<int> out;
    if (total <= 0 || count <= 0) return out;
    if (count >= total) {
        for (int i = 0; i < total; ++i) out.push_back(i);
        return out;
    }
    // Evenly spaced after frame 0 (the input thumbnail already shows where the video starts); the
    // step is at least one frame, so rounding never repeats an index.
    const double step = static_cast<double>(total - 1) / count;
    for (int k = 1; k <= count; ++k) out.push_back(static_cast<int>(std::lround(k * step)));
    return out;
}

Image compose_contact_sheet(const ContactSheet& sheet) {
    if (sheet.thumb_height < 8) {
        throw Error(ErrorCode::Internal, "contact sheet: thumbnail height " +
                                             std::to_string(sheet.thumb_height) + " is below 8");
    }
    if (sheet.frames.empty()) throw Error(ErrorCode::Internal, "contact sheet: no frames to show");
    const int th = sheet.thumb_height;

    // Groups left to right: input | generated frames | goal.
    std::vector<std::vector<Cell>> groups;
    if (sheet.input != nullptr && valid(*sheet.input)) {
        groups.push_back({Cell{thumbnail(*sheet.input, th), "input", kInputColor, true}});
    }
    groups.emplace_back();
    for (size_t i = 0; i < sheet.frames.size(); ++i) {
        if (!valid(sheet.frames[i])) throw Error(ErrorCode::Internal, "contact sheet: empty frame");
        std::string label = i < sheet.labels.size() ? sheet.labels[i] : std::string();
        groups.back().push_back(Cell{thumbnail(sheet.frames[i], th), label, kFrameLabel, false});
    }
    if (sheet.goal != nullptr && valid(*sheet.goal)) {
        groups.push_back({Cell{thumbnail(*sheet.goal, th), "goal", kGoalColor, true}});
    }

    std::vector<int> dividers;
    int x = kMargin;
    for (size_t g = 0; g < groups.size(); ++g) {
        if (g > 0) {
            dividers.push_back(x + (kGroupGap - kDivider) / 2 - kGap);
            x += kGroupGap - kGap;
        }
        for (Cell& c : groups[g]) {
            c.x = x;
            x += c.thumb.width + kGap;
        }
    }
    const int width = x - kGap + kMargin;

    const int line = text::line_height(kTextScale);
    const bool two_lines = !text::printable(sheet.subtitle).empty();
    const int caption_h = kMargin + line + (two_lines ? kCaptionLineGap + line : 0) + kMargin / 2;
    const int thumbs_y = caption_h + kMargin;
    const int labels_y = thumbs_y + th + kLabelGap;
    const int height = labels_y + line + kMargin / 2;

    Image out(width, height);
    fill(out, 0, 0, width, height, kBackground);
    fill(out, 0, 0, width, caption_h, kCaptionBar);
    const int text_w = width - 2 * kMargin;
    // Drawn twice a pixel apart: bold, so the title stands out from the prompt below it.
    const std::string title = text::fit(sheet.title, kTextScale, text_w - 1);
    text::draw(out, kMargin, kMargin, title, kTextScale, kTitle);
    text::draw(out, kMargin + 1, kMargin, title, kTextScale, kTitle);
    if (two_lines) {
        text::draw(out, kMargin, kMargin + line + kCaptionLineGap,
                   text::fit(sheet.subtitle, kTextScale, text_w), kTextScale, kSubtitle);
    }
    for (int d : dividers)
        fill(out, d, thumbs_y - kMargin / 2, kDivider, height - thumbs_y, kDividerColor);

    for (const auto& group : groups) {
        for (const Cell& c : group) {
            if (c.outlined) {
                fill(out, c.x - kOutline, thumbs_y - kOutline, c.thumb.width + 2 * kOutline,
                     th + 2 * kOutline, c.color);
            }
            blit(out, c.thumb, c.x, thumbs_y);
            const std::string label = text::fit(c.label, kTextScale, c.thumb.width);
            const int lx = c.x + (c.thumb.width - text::width(label, kTextScale)) / 2;
            text::draw(out, lx, labels_y, label, kTextScale, c.color);
        }
    }
    return out;
}

void write_contact_sheet(const std::filesystem::path& path, const RunSheetRequest& r) {
    const std::vector<int> picked = pick_frames(r.video_frames, r.frames);
    if (picked.empty()) {
        throw Error(ErrorCode::Video, "cannot make a contact sheet of " + r.video.string() +
                                          ": it has " + std::to_string(r.video_frames) +
                                          " frames and " + std::to_string(r.frames) +
                                          " were asked for");
    }
    ContactSheet sheet;
    sheet.input = r.input;
    sheet.goal = r.goal;
    sheet.frames = read_frames(r.video, picked);
    for (int index : picked) {
        char buf[32];
        if (r.fps > 0) {
            std::snprintf(buf, sizeof buf, "%.2fs", index / r.fps);
        } else {
            std::snprintf(buf, sizeof buf, "#%d", index);
        }
        sheet.labels.emplace_back(buf);
    }
    const Image& f = sheet.frames.front();
    char facts[96];
    std::snprintf(facts, sizeof facts, "%d frames, %.4g fps, %dx%d", r.video_frames, r.fps, f.width,
                  f.height);
    sheet.title = r.model + "  |  " + r.question + "  |  generated in " +
                  seconds_text(r.generation_s) + "  |  " + facts;
    sheet.subtitle = r.prompt;
    // zlib at level 1: half the time of level 3 for a file about 10% larger
    // (bench/contact_sheet_bench).
    write_png_fast(path, compose_contact_sheet(sheet), 1);
}

}  // namespace vmeval::video
