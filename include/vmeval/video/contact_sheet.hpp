#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "vmeval/video/image.hpp"

namespace vmeval::video {

/// File name of a run's contact sheet, beside metadata.json.
inline constexpr const char* kContactSheetFile = "contact_sheet.png";
/// Generated frames a contact sheet shows unless told otherwise.
inline constexpr int kDefaultContactSheetFrames = 6;

/// What goes on a contact sheet: one row of thumbnails (same height, aspect kept) under a caption.
struct ContactSheet {
    const Image* input = nullptr;     ///< the question's first frame, labelled "input"
    std::vector<Image> frames;        ///< generated frames, left to right
    std::vector<std::string> labels;  ///< one per frame, e.g. "1.88s"
    const Image* goal = nullptr;      ///< final_frame.png, labelled "goal"; null when none
    std::string title;                ///< first caption line (model, question, seconds)
    std::string subtitle;             ///< second caption line, dimmer (the prompt); may be empty
    int thumb_height = 144;           ///< pixels
};

/// Lays the sheet out and draws it. Throws Error(Internal) when there is nothing to draw.
Image compose_contact_sheet(const ContactSheet& sheet);

/// `count` frame indices spread evenly over a video of `total` frames, ascending and distinct,
/// always ending with the last frame (fewer when the video is shorter than `count`).
std::vector<int> pick_frames(int total, int count);

/// Everything write_contact_sheet needs to know about a finished run.
struct RunSheetRequest {
    std::filesystem::path video;  ///< the generated MP4
    int video_frames = 0;         ///< frames in it, as probed
    double fps = 0;               ///< its frame rate, for the time labels
    const Image* input = nullptr;
    const Image* goal = nullptr;
    std::string model;
    std::string question;  ///< "domain/task_id"
    std::string prompt;
    double generation_s = 0;
    int frames = kDefaultContactSheetFrames;  ///< generated frames to show
};

/// Reads the chosen frames of the run's video, composes the sheet and writes it as PNG to `path`.
/// Throws Error(Video) when the video cannot be decoded, Error(Io) when the PNG cannot be written.
void write_contact_sheet(const std::filesystem::path& path, const RunSheetRequest& request);

}  // namespace vmeval::video
