#pragma once

#include <filesystem>
#include <memory>

#include "vmeval/video/image.hpp"

namespace vmeval::video {

struct Mp4Options {
    double fps = 8.0;              ///< exact frame rate written to the stream (fractional allowed)
    int crf = 18;                  ///< libx264 quality, lower is better
    const char* preset = "veryfast";
};

/// Streams RGB frames into an H.264 (libx264, yuv420p) MP4 file. Every frame must have the size of
/// the first; odd widths or heights are padded by one edge-replicated column/row (yuv420p needs even
/// sizes), so the file's size is the frame size rounded up to even. Errors throw Error(Video).
class Mp4Writer {
public:
    Mp4Writer(const std::filesystem::path& path, const Mp4Options& options);
    ~Mp4Writer();
    Mp4Writer(const Mp4Writer&) = delete;
    Mp4Writer& operator=(const Mp4Writer&) = delete;

    /// Encodes one frame.
    void add(const Image& frame);
    /// Flushes the encoder and writes the trailer; the file is complete only after this returns.
    void finish();
    /// Number of frames added so far.
    int frames() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace vmeval::video
