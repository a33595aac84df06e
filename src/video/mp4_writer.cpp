#include "vmeval/video/mp4_writer.hpp"

#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include "vmeval/core/error.hpp"
#include "src/video/av_handles.hpp"

namespace vmeval::video {

namespace {

using av::CodecDeleter;
using av::FrameDeleter;
using av::PacketDeleter;
using av::SwsDeleter;
std::string av_error_text(int err) { return av::error_text(err); }

struct FormatDeleter {
    void operator()(AVFormatContext* ctx) const {
        if (ctx->pb != nullptr && (ctx->oformat->flags & AVFMT_NOFILE) == 0) avio_closep(&ctx->pb);
        avformat_free_context(ctx);
    }
};

void quiet_ffmpeg() {
    // libx264 prints its settings and statistics at info level; one line per video is noise in
    // a batch of thousands.
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
}

}  // namespace

struct Mp4Writer::State {
    std::filesystem::path path;
    Mp4Options options;
    AVRational rate{0, 1};

    std::unique_ptr<AVFormatContext, FormatDeleter> format;
    std::unique_ptr<AVCodecContext, CodecDeleter> encoder;
    std::unique_ptr<AVFrame, FrameDeleter> frame;
    std::unique_ptr<AVPacket, PacketDeleter> packet;
    std::unique_ptr<SwsContext, SwsDeleter> sws;
    AVStream* stream = nullptr;

    int width = 0;  // size of the frames given to add()
    int height = 0;
    std::vector<std::uint8_t> padded;  // edge-replicated copy when the size is odd
    std::int64_t next_pts = 0;
    int frames = 0;
    bool finished = false;
    bool failed = false;  // an FFmpeg call failed after opening: the encoder state is unknown

    [[noreturn]] void fail(const std::string& what, int err) {
        failed = true;
        throw Error(ErrorCode::Video, "cannot write video " + path.string() + ": " + what + ": " +
                                          av_error_text(err));
    }

    void open(int w, int h);
    void encode(const AVFrame* input);
};

void Mp4Writer::State::open(int w, int h) {
    width = w;
    height = h;
    const int enc_w = w + (w & 1);
    const int enc_h = h + (h & 1);

    AVFormatContext* raw_format = nullptr;
    // The format is named, not guessed from the extension: callers may write to a temporary name.
    int err = avformat_alloc_output_context2(&raw_format, nullptr, "mp4", path.c_str());
    if (err < 0 || raw_format == nullptr) fail("cannot create the MP4 muxer", err);
    format.reset(raw_format);

    // The generic H.264 lookup can land on a hardware encoder on some builds; crf and preset are
    // libx264 options, so ask for it by name first.
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (codec == nullptr) codec = avcodec_find_encoder(AV_CODEC_ID_H264);
    if (codec == nullptr) {
        fail("this FFmpeg has no H.264 encoder (install libx264)", AVERROR_ENCODER_NOT_FOUND);
    }

    stream = avformat_new_stream(format.get(), nullptr);
    if (stream == nullptr) fail("cannot add a video stream", AVERROR(ENOMEM));
    encoder.reset(avcodec_alloc_context3(codec));
    if (!encoder) fail("cannot allocate the encoder", AVERROR(ENOMEM));

    AVCodecContext* enc = encoder.get();
    enc->width = enc_w;
    enc->height = enc_h;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = av_inv_q(rate);
    enc->framerate = rate;
    enc->gop_size = std::max(1, static_cast<int>(std::lround(2.0 * options.fps)));
    // Tag what sws_scale produces by default (BT.601, limited range) so players convert back right.
    enc->color_range = AVCOL_RANGE_MPEG;
    enc->colorspace = AVCOL_SPC_SMPTE170M;
    if ((format->oformat->flags & AVFMT_GLOBALHEADER) != 0) {
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    if (enc->priv_data != nullptr) {
        // Ignoring "option not found" keeps a non-x264 fallback encoder usable.
        err = av_opt_set(enc->priv_data, "crf", std::to_string(options.crf).c_str(), 0);
        if (err < 0 && err != AVERROR_OPTION_NOT_FOUND) fail("invalid crf", err);
        const char* preset = options.preset != nullptr ? options.preset : "veryfast";
        err = av_opt_set(enc->priv_data, "preset", preset, 0);
        if (err < 0 && err != AVERROR_OPTION_NOT_FOUND) fail("invalid preset", err);
    }
    err = avcodec_open2(enc, codec, nullptr);
    if (err < 0) fail(std::string("cannot open the ") + codec->name + " encoder", err);

    err = avcodec_parameters_from_context(stream->codecpar, enc);
    if (err < 0) fail("cannot copy the encoder parameters", err);
    stream->time_base = enc->time_base;  // a hint: the muxer picks its own and says so
    stream->avg_frame_rate = rate;
    stream->r_frame_rate = rate;

    if ((format->oformat->flags & AVFMT_NOFILE) == 0) {
        err = avio_open(&format->pb, path.c_str(), AVIO_FLAG_WRITE);
        if (err < 0) fail("cannot open the file", err);
    }
    err = avformat_write_header(format.get(), nullptr);
    if (err < 0) fail("cannot write the MP4 header", err);

    frame.reset(av_frame_alloc());
    packet.reset(av_packet_alloc());
    if (!frame || !packet) fail("cannot allocate a frame", AVERROR(ENOMEM));
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = enc_w;
    frame->height = enc_h;
    err = av_frame_get_buffer(frame.get(), 0);
    if (err < 0) fail("cannot allocate a frame", err);

    sws.reset(sws_getContext(enc_w, enc_h, AV_PIX_FMT_RGB24, enc_w, enc_h, AV_PIX_FMT_YUV420P,
                             SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
    if (!sws) fail("cannot create the RGB to YUV converter", AVERROR(EINVAL));
    if (enc_w != w || enc_h != h) padded.assign(static_cast<size_t>(enc_w) * enc_h * 3, 0);
}

// Sends one frame (or the end of stream when null) and writes every packet the encoder returns.
void Mp4Writer::State::encode(const AVFrame* input) {
    int err = avcodec_send_frame(encoder.get(), input);
    if (err < 0) fail("the encoder refused a frame", err);
    for (;;) {
        err = avcodec_receive_packet(encoder.get(), packet.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
        if (err < 0) fail("encoding failed", err);
        // The encoder leaves video durations at 0; without one the MP4 muxer gives the last
        // sample no duration and the file reads back one frame short.
        if (packet->duration == 0) packet->duration = 1;
        av_packet_rescale_ts(packet.get(), encoder->time_base, stream->time_base);
        packet->stream_index = stream->index;
        err = av_interleaved_write_frame(format.get(), packet.get());
        if (err < 0) fail("cannot write a packet", err);
    }
}

Mp4Writer::Mp4Writer(const std::filesystem::path& path, const Mp4Options& options)
    : state_(std::make_unique<State>()) {
    quiet_ffmpeg();
    if (!std::isfinite(options.fps) || options.fps <= 0 || options.fps > 1000) {
        throw Error(ErrorCode::Video, "cannot write video " + path.string() + ": frame rate " +
                                          std::to_string(options.fps) + " is not in (0, 1000]");
    }
    state_->path = path;
    state_->options = options;
    state_->rate = av_d2q(options.fps, 100000);
}

// Members release everything; an unfinished file is left as it is for the caller to delete.
Mp4Writer::~Mp4Writer() = default;

void Mp4Writer::add(const Image& image) {
    State& s = *state_;
    const std::string where = "cannot write video " + s.path.string() + ": ";
    if (s.finished) throw Error(ErrorCode::Video, where + "add() after finish()");
    if (s.failed) throw Error(ErrorCode::Video, where + "an earlier frame failed");
    if (image.width <= 0 || image.height <= 0 ||
        image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
        throw Error(ErrorCode::Video, where + "frame " + std::to_string(s.frames) +
                                          " is empty or its pixel buffer does not match " +
                                          std::to_string(image.width) + "x" +
                                          std::to_string(image.height));
    }
    if (!s.format) {
        s.open(image.width, image.height);
    } else if (image.width != s.width || image.height != s.height) {
        throw Error(ErrorCode::Video, where + "frame " + std::to_string(s.frames) + " is " +
                                          std::to_string(image.width) + "x" +
                                          std::to_string(image.height) + " but the first was " +
                                          std::to_string(s.width) + "x" + std::to_string(s.height));
    }

    const std::uint8_t* src = image.rgb.data();
    int stride = image.width * 3;
    if (!s.padded.empty()) {
        const int enc_w = s.frame->width;
        const int enc_h = s.frame->height;
        const size_t row_bytes = static_cast<size_t>(image.width) * 3;
        for (int y = 0; y < enc_h; ++y) {
            const std::uint8_t* in = image.row(std::min(y, image.height - 1));
            std::uint8_t* out = s.padded.data() + static_cast<size_t>(y) * enc_w * 3;
            std::memcpy(out, in, row_bytes);
            if (enc_w != image.width) std::memcpy(out + row_bytes, out + row_bytes - 3, 3);
        }
        src = s.padded.data();
        stride = enc_w * 3;
    }

    // The encoder may still hold a reference to the previous frame's buffers.
    int err = av_frame_make_writable(s.frame.get());
    if (err < 0) s.fail("cannot reuse the frame buffer", err);
    const std::uint8_t* const planes[1] = {src};
    const int strides[1] = {stride};
    sws_scale(s.sws.get(), planes, strides, 0, s.frame->height, s.frame->data, s.frame->linesize);
    s.frame->pts = s.next_pts++;
    s.encode(s.frame.get());
    ++s.frames;
}

void Mp4Writer::finish() {
    State& s = *state_;
    if (s.finished) return;
    const std::string where = "cannot write video " + s.path.string() + ": ";
    if (s.failed) throw Error(ErrorCode::Video, where + "an earlier frame failed");
    if (s.frames == 0) throw Error(ErrorCode::Video, where + "no frames were added");

    s.encode(nullptr);
    int err = av_write_trailer(s.format.get());
    if (err < 0) s.fail("cannot write the MP4 trailer", err);
    if ((s.format->oformat->flags & AVFMT_NOFILE) == 0) {
        // Closing flushes the last buffered bytes, so a full disk shows up here.
        err = avio_closep(&s.format->pb);
        if (err < 0) s.fail("cannot close the file", err);
    }
    s.sws.reset();
    s.frame.reset();
    s.packet.reset();
    s.encoder.reset();
    s.format.reset();
    s.finished = true;
}

int Mp4Writer::frames() const { return state_->frames; }

}  // namespace vmeval::video
