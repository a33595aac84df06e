#include "vmeval/video/probe.hpp"

#include <memory>
#include <mutex>
#include <system_error>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
}

#include "vmeval/core/error.hpp"
#include "src/video/av_handles.hpp"

namespace vmeval::video {

namespace {

using av::InputCloser;
using av::PacketDeleter;
std::string av_error_text(int err) { return av::error_text(err); }

namespace fs = std::filesystem;


[[noreturn]] void fail(const fs::path& path, const std::string& why) {
    throw Error(ErrorCode::Video, path.string() + " is not a usable video: " + why);
}

double rate_of(AVRational r) { return r.num > 0 && r.den > 0 ? av_q2d(r) : 0.0; }

}  // namespace

VideoProbe probe_video(const fs::path& path) {
    // Same level as the writer: demuxers report damage at error level, and the caller gets that
    // in the exception; printed as well it would scroll a resumed batch full of noise.
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });

    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) fail(path, "the file does not exist");
    if (!fs::is_regular_file(status)) fail(path, "it is not a regular file");
    VideoProbe probe;
    probe.bytes = fs::file_size(path, ec);
    if (ec) fail(path, "cannot read its size: " + ec.message());
    if (probe.bytes == 0) fail(path, "the file is empty (0 bytes)");

    AVFormatContext* raw = nullptr;
    int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
    // On failure FFmpeg frees the context itself, so ownership starts only on success.
    if (err < 0) fail(path, "FFmpeg cannot open it: " + av_error_text(err));
    std::unique_ptr<AVFormatContext, InputCloser> ctx(raw);

    err = avformat_find_stream_info(ctx.get(), nullptr);
    if (err < 0) fail(path, "FFmpeg cannot read its streams: " + av_error_text(err));
    int index = av_find_best_stream(ctx.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (index < 0) fail(path, "it has no video stream");

    const AVStream* stream = ctx->streams[index];
    const AVCodecParameters* par = stream->codecpar;
    probe.container = ctx->iformat->name;
    probe.codec = avcodec_get_name(par->codec_id);
    const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
    probe.pixel_format = pix != nullptr ? pix : "unknown";
    probe.width = par->width;
    probe.height = par->height;
    probe.fps = rate_of(stream->avg_frame_rate);
    if (probe.fps == 0) probe.fps = rate_of(stream->r_frame_rate);
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
        probe.duration_s = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
    } else if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0) {
        probe.duration_s = static_cast<double>(ctx->duration) / AV_TIME_BASE;
    }

    // Count what is really there: the header's frame count survives truncation, the packets do not.
    // Other streams are discarded so the demuxer skips their data.
    for (unsigned i = 0; i < ctx->nb_streams; ++i) {
        if (static_cast<int>(i) != index) ctx->streams[i]->discard = AVDISCARD_ALL;
    }
    std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
    if (!packet) fail(path, "out of memory");
    for (;;) {
        err = av_read_frame(ctx.get(), packet.get());
        if (err == AVERROR_EOF) break;
        if (err < 0) {
            fail(path, "reading failed after " + std::to_string(probe.frames) +
                           " frames: " + av_error_text(err));
        }
        // A packet cut short by the end of the file is flagged corrupt; it is not a whole frame.
        if (packet->stream_index == index && (packet->flags & AV_PKT_FLAG_CORRUPT) == 0) {
            ++probe.frames;
        }
        av_packet_unref(packet.get());
    }
    if (probe.frames == 0) fail(path, "it holds no video frames");
    return probe;
}

}  // namespace vmeval::video
