#include "vmeval/video/frame_reader.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include "vmeval/core/error.hpp"
#include "src/video/av_handles.hpp"

namespace vmeval::video {

namespace {

using av::CodecDeleter;
using av::FrameDeleter;
using av::InputCloser;
using av::PacketDeleter;
using av::SwsDeleter;
std::string av_error_text(int err) { return av::error_text(err); }

namespace fs = std::filesystem;


[[noreturn]] void fail(const fs::path& path, const std::string& why) {
    throw Error(ErrorCode::Video, "cannot read frames of " + path.string() + ": " + why);
}

// API providers deliver BT.709 video; our own writer tags BT.601. Converting with the wrong matrix
// shifts colours visibly (greens and reds), so follow the stream's tag.
int sws_colorspace_of(AVColorSpace space) {
    switch (space) {
        case AVCOL_SPC_BT709:
            return SWS_CS_ITU709;
        case AVCOL_SPC_BT2020_NCL:
        case AVCOL_SPC_BT2020_CL:
            return SWS_CS_BT2020;
        case AVCOL_SPC_SMPTE240M:
            return SWS_CS_SMPTE240M;
        default:
            return SWS_CS_DEFAULT;
    }
}

class Decoder {
public:
    Decoder(const fs::path& path, const std::vector<int>& indices) : path_(path) {
        for (size_t i = 0; i < indices.size(); ++i) wanted_[indices[i]].push_back(i);
        out_.resize(indices.size());
        last_wanted_ = wanted_.empty() ? -1 : wanted_.rbegin()->first;
    }

    std::vector<Image> run() {
        open();
        std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
        if (!packet || !frame_) fail(path_, "out of memory");
        while (decoded_ <= last_wanted_) {
            int err = av_read_frame(input_.get(), packet.get());
            if (err == AVERROR_EOF) break;
            if (err < 0)
                fail(path_, "reading failed after frame " + std::to_string(decoded_) + ": " +
                                av_error_text(err));
            if (packet->stream_index == stream_) {
                // A damaged packet is skipped, not fatal: the frames around it may still decode,
                // and a missing wanted frame is reported below anyway.
                err = avcodec_send_packet(decoder_.get(), packet.get());
                if (err == AVERROR(EAGAIN)) {  // its output is full: drain it, then the packet fits
                    receive();
                    err = avcodec_send_packet(decoder_.get(), packet.get());
                }
                if (err < 0) last_error_ = err;
                receive();
            }
            av_packet_unref(packet.get());
        }
        if (decoded_ <= last_wanted_) {
            avcodec_send_packet(decoder_.get(), nullptr);  // drain the frames held for reordering
            receive();
        }
        if (decoded_ <= last_wanted_) {
            std::string why = "it has only " + std::to_string(decoded_) +
                              " decodable frame(s) and frame " + std::to_string(last_wanted_) +
                              " was asked for";
            if (last_error_ < 0) why += " (decoder: " + av_error_text(last_error_) + ")";
            fail(path_, why);
        }
        return std::move(out_);
    }

private:
    void open() {
        AVFormatContext* raw = nullptr;
        int err = avformat_open_input(&raw, path_.c_str(), nullptr, nullptr);
        // On failure FFmpeg frees the context itself, so ownership starts only on success.
        if (err < 0) fail(path_, "FFmpeg cannot open it: " + av_error_text(err));
        input_.reset(raw);
        err = avformat_find_stream_info(input_.get(), nullptr);
        if (err < 0) fail(path_, "FFmpeg cannot read its streams: " + av_error_text(err));
        const AVCodec* codec = nullptr;
        stream_ = av_find_best_stream(input_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
        if (stream_ < 0 || codec == nullptr) fail(path_, "it has no decodable video stream");
        for (unsigned i = 0; i < input_->nb_streams; ++i) {
            if (static_cast<int>(i) != stream_) input_->streams[i]->discard = AVDISCARD_ALL;
        }
        decoder_.reset(avcodec_alloc_context3(codec));
        if (!decoder_) fail(path_, "out of memory");
        err = avcodec_parameters_to_context(decoder_.get(), input_->streams[stream_]->codecpar);
        if (err < 0) fail(path_, "cannot set up the decoder: " + av_error_text(err));
        err = avcodec_open2(decoder_.get(), codec, nullptr);
        if (err < 0)
            fail(path_,
                 std::string("cannot open the ") + codec->name + " decoder: " + av_error_text(err));
        frame_.reset(av_frame_alloc());
    }

    void receive() {
        for (;;) {
            int err = avcodec_receive_frame(decoder_.get(), frame_.get());
            if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
            if (err < 0) {
                last_error_ = err;
                return;
            }
            auto it = wanted_.find(decoded_);
            if (it != wanted_.end()) {
                Image image = convert();
                for (size_t i = 1; i < it->second.size(); ++i) out_[it->second[i]] = image;
                out_[it->second.front()] = std::move(image);
            }
            ++decoded_;
            av_frame_unref(frame_.get());
        }
    }

    Image convert() {
        const AVFrame& f = *frame_;
        sws_.reset(sws_getCachedContext(sws_.release(), f.width, f.height,
                                        static_cast<AVPixelFormat>(f.format), f.width, f.height,
                                        AV_PIX_FMT_RGB24, SWS_BILINEAR | SWS_ACCURATE_RND, nullptr,
                                        nullptr, nullptr));
        if (!sws_) fail(path_, "cannot convert its pixel format to RGB");
        const int full_range = f.color_range == AVCOL_RANGE_JPEG ? 1 : 0;
        sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(sws_colorspace_of(f.colorspace)),
                                 full_range, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16,
                                 1 << 16);
        Image image(f.width, f.height);
        std::uint8_t* planes[1] = {image.rgb.data()};
        const int strides[1] = {f.width * 3};
        sws_scale(sws_.get(), f.data, f.linesize, 0, f.height, planes, strides);
        return image;
    }

    fs::path path_;
    std::map<int, std::vector<size_t>> wanted_;  // frame index -> positions in the result
    std::vector<Image> out_;
    int last_wanted_ = -1;
    int decoded_ = 0;
    int last_error_ = 0;
    int stream_ = -1;
    std::unique_ptr<AVFormatContext, InputCloser> input_;
    std::unique_ptr<AVCodecContext, CodecDeleter> decoder_;
    std::unique_ptr<AVFrame, FrameDeleter> frame_;
    std::unique_ptr<SwsContext, SwsDeleter> sws_;
};

}  // namespace

std::vector<Image> read_frames(const fs::path& path, const std::vector<int>& indices) {
    // Damaged input is reported through the exception; FFmpeg's own lines would only add noise.
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
    for (int index : indices) {
        if (index < 0) fail(path, "frame index " + std::to_string(index) + " is negative");
    }
    if (indices.empty()) return {};
    return Decoder(path, indices).run();
}

}  // namespace vmeval::video
