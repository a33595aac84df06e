#include "models/wan/vae.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "models/torch/blocks/attention.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::wan {

namespace {

using nn::CausalConv3d;

// Frames per encoder chunk after the first frame: one latent frame each (4x temporal).
constexpr int64_t kEncodeChunk = 4;

// The reference's defaults for a config without latents_mean/latents_std (the Wan 2.1 VAE).
const std::vector<double> kWan21LatentsMean{-0.7571, -0.7089, -0.9113, 0.1075,  -0.1745, 0.9653,
                                            -0.1517, 1.5508,  0.4134,  -0.0715, 0.5517,  -0.3632,
                                            -0.1922, -0.9497, 0.2503,  -0.2921};
const std::vector<double> kWan21LatentsStd{2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708,
                                           2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579,
                                           1.6382, 1.1253, 2.8251, 1.9160};

// Frames to fold: [B*T, C, H, W] views of a 5D tensor for the per-frame 2D layers.
at::Tensor frames_2d(const at::Tensor& x) {
    return x.permute({0, 2, 1, 3, 4})
        .reshape({x.size(0) * x.size(2), x.size(1), x.size(3), x.size(4)});
}
at::Tensor frames_3d(const at::Tensor& y, int64_t batch) {
    return y.reshape({batch, y.size(0) / batch, y.size(1), y.size(2), y.size(3)})
        .permute({0, 2, 1, 3, 4});
}

std::vector<bool> bool_list(const nn::ConfigFile& f, const std::string& key,
                            std::vector<bool> fallback) {
    if (!f.has(key)) return fallback;
    const auto& v = f.json().at(key);
    std::vector<bool> out;
    if (v.is_array())
        for (const auto& b : v) {
            if (!b.is_boolean()) {
                out.clear();
                break;
            }
            out.push_back(b.get<bool>());
        }
    if (!v.is_array() || out.size() != v.size())
        throw Error(ErrorCode::Config,
                    f.path().string() + ": '" + key + "' must be a list of booleans");
    return out;
}

}  // namespace

VAEConfig VAEConfig::from(const nn::ConfigFile& f) {
    VAEConfig c;
    c.base_dim = f.get<int64_t>("base_dim", c.base_dim);
    c.decoder_base_dim = f.get<int64_t>("decoder_base_dim", 0);
    if (c.decoder_base_dim == 0) c.decoder_base_dim = c.base_dim;
    c.z_dim = f.get<int64_t>("z_dim", c.z_dim);
    c.dim_mult = f.get<std::vector<int64_t>>("dim_mult", c.dim_mult);
    c.num_res_blocks = f.get<int64_t>("num_res_blocks", c.num_res_blocks);
    c.temperal_downsample = bool_list(f, "temperal_downsample", c.temperal_downsample);
    c.is_residual = f.get<bool>("is_residual", c.is_residual);
    c.in_channels = f.get<int64_t>("in_channels", c.in_channels);
    c.out_channels = f.get<int64_t>("out_channels", c.out_channels);
    c.patch_size = f.get<int64_t>("patch_size", 0);
    c.scale_factor_temporal = f.get<int64_t>("scale_factor_temporal", c.scale_factor_temporal);
    c.scale_factor_spatial = f.get<int64_t>("scale_factor_spatial", c.scale_factor_spatial);
    c.latents_mean = f.get<std::vector<double>>("latents_mean", kWan21LatentsMean);
    c.latents_std = f.get<std::vector<double>>("latents_std", kWan21LatentsStd);
    const auto where = f.path().string() + ": ";
    if (f.has("attn_scales") && !f.json().at("attn_scales").empty())
        throw Error(ErrorCode::Config,
                    where +
                        "'attn_scales' must be empty: the reference's chunked encoder cannot run "
                        "attention blocks between its down blocks (no released Wan VAE has any)");
    if (c.dim_mult.empty() || c.temperal_downsample.size() + 1 != c.dim_mult.size())
        throw Error(ErrorCode::Config,
                    where + "'temperal_downsample' needs one entry fewer than 'dim_mult'");
    if (c.num_res_blocks < 1 || c.base_dim < 1 || c.z_dim < 1)
        throw Error(ErrorCode::Config,
                    where + "'base_dim', 'z_dim' and 'num_res_blocks' must be positive");
    const int64_t p2 = c.patch_size > 0 ? c.patch_size * c.patch_size : 1;
    if (c.in_channels % p2 != 0 || c.out_channels % p2 != 0)
        throw Error(ErrorCode::Config,
                    where + "'in_channels'/'out_channels' must be multiples of patch_size^2");
    return c;
}

CacheSlot& FeatureCache::next() {
    if (next_ == slots_.size()) slots_.emplace_back();
    return slots_[next_++];
}

RMSNorm::RMSNorm(int64_t dim, bool images)
    : scale_(std::sqrt(static_cast<double>(dim))),
      gamma_(param("gamma", images ? std::vector<int64_t>{dim, 1, 1}
                                   : std::vector<int64_t>{dim, 1, 1, 1})) {}

at::Tensor RMSNorm::forward(const at::Tensor& x) const {
    const bool half = x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16;
    auto xf = half ? x.to(at::kFloat) : x;
    // F.normalize: divide by the L2 norm over channels, floored at 1e-12.
    auto normalized =
        (xf / xf.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12).expand_as(xf)).to(x.scalar_type());
    return normalized * scale_ * gamma_;
}

ResidualBlock::ResidualBlock(int64_t in, int64_t out)
    : norm1_(child<RMSNorm>("norm1", in, false)),
      conv1_(child<CausalConv3d>("conv1", in, out, std::array<int64_t, 3>{3, 3, 3},
                                 std::array<int64_t, 3>{1, 1, 1}, std::array<int64_t, 3>{1, 1, 1})),
      norm2_(child<RMSNorm>("norm2", out, false)),
      conv2_(child<CausalConv3d>("conv2", out, out, std::array<int64_t, 3>{3, 3, 3},
                                 std::array<int64_t, 3>{1, 1, 1},
                                 std::array<int64_t, 3>{1, 1, 1})) {
    if (in != out)
        shortcut_ = &child<CausalConv3d>("conv_shortcut", in, out, std::array<int64_t, 3>{1, 1, 1});
}

at::Tensor ResidualBlock::forward(const at::Tensor& x, FeatureCache& cache, bool) const {
    auto h = shortcut_ ? shortcut_->forward(x) : x;
    auto y = at::silu(norm1_.forward(x));
    y = conv1_.forward_chunk(y, cache.next().frames);
    y = at::silu(norm2_.forward(y));
    y = conv2_.forward_chunk(y, cache.next().frames);
    return y + h;
}

AttentionBlock::AttentionBlock(int64_t dim)
    : norm_(child<RMSNorm>("norm", dim, true)),
      to_qkv_(child<nn::Conv2d>("to_qkv", dim, dim * 3, 1)),
      proj_(child<nn::Conv2d>("proj", dim, dim, 1)) {}

at::Tensor AttentionBlock::forward(const at::Tensor& x, FeatureCache&, bool) const {
    const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
    auto f = norm_.forward(frames_2d(x));
    // One head over the h*w positions of each frame: [B*T, 1, HW, 3C] split into q, k, v.
    auto qkv = to_qkv_.forward(f).reshape({b * t, 1, c * 3, -1}).permute({0, 1, 3, 2}).contiguous();
    auto parts = qkv.chunk(3, -1);
    auto o = nn::sdpa(parts[0], parts[1], parts[2]);
    o = o.squeeze(1).permute({0, 2, 1}).reshape({b * t, c, h, w});
    o = proj_.forward(o);
    return frames_3d(o, b) + x;
}

Resample::Resample(int64_t dim, ResampleMode mode, int64_t upsample_out_dim)
    : mode_(mode),
      conv_(child<nn::Conv2d>(
          "resample.1", (mode == ResampleMode::Upsample2D || mode == ResampleMode::Upsample3D)
                            ? nn::Conv2dOptions{dim,
                                                upsample_out_dim > 0 ? upsample_out_dim : dim / 2,
                                                {3, 3},
                                                {1, 1},
                                                {1, 1},
                                                true}
                            : nn::Conv2dOptions{dim, dim, {3, 3}, {2, 2}, {0, 0}, true})) {
    if (mode == ResampleMode::Upsample3D)
        time_conv_ =
            &child<CausalConv3d>("time_conv", dim, dim * 2, std::array<int64_t, 3>{3, 1, 1},
                                 std::array<int64_t, 3>{1, 1, 1}, std::array<int64_t, 3>{1, 0, 0});
    else if (mode == ResampleMode::Downsample3D)
        time_conv_ =
            &child<CausalConv3d>("time_conv", dim, dim, std::array<int64_t, 3>{3, 1, 1},
                                 std::array<int64_t, 3>{2, 1, 1}, std::array<int64_t, 3>{0, 0, 0});
}

at::Tensor Resample::forward(const at::Tensor& input, FeatureCache& cache, bool) const {
    at::Tensor x = input;
    const int64_t b = x.size(0), c = x.size(1), h = x.size(3), w = x.size(4);
    if (mode_ == ResampleMode::Upsample3D) {
        auto& slot = cache.next();
        // The very first chunk keeps its frame count; later ones double it, each frame becoming the
        // two halves of time_conv's output, interleaved.
        if (slot.seen) {
            const int64_t t = x.size(2);
            auto y = time_conv_->forward_chunk(x, slot.frames);
            y = y.reshape({b, 2, c, t, h, w});
            x = at::stack({y.select(1, 0), y.select(1, 1)}, 3).reshape({b, c, t * 2, h, w});
        }
        slot.seen = true;
    }
    auto f = frames_2d(x);
    if (mode_ == ResampleMode::Upsample2D || mode_ == ResampleMode::Upsample3D) {
        // nearest-exact, in fp32 as WanUpsample does.
        auto up = at::_upsample_nearest_exact2d(f.to(at::kFloat), {f.size(2) * 2, f.size(3) * 2},
                                                2.0, 2.0);
        f = conv_.forward(up.to(f.scalar_type()));
    } else {
        f = conv_.forward(at::constant_pad_nd(f, {0, 1, 0, 1}));
    }
    x = frames_3d(f, b);
    if (mode_ == ResampleMode::Downsample3D) {
        auto& slot = cache.next();
        // The first chunk only primes the cache: its single frame is not reduced in time.
        if (slot.seen) {
            auto last = x.slice(2, x.size(2) - 1).clone();
            x = time_conv_->forward(at::cat({*slot.frames, x}, 2));
            slot.frames = last;
        } else {
            slot.frames = x.slice(2, x.size(2) - 1).clone();
            slot.seen = true;
        }
    }
    return x;
}

at::Tensor avg_down_3d(const at::Tensor& input, int64_t out_channels, int64_t ft, int64_t fs) {
    const int64_t pad_t = (ft - input.size(2) % ft) % ft;
    auto x = at::constant_pad_nd(input, {0, 0, 0, 0, pad_t, 0});
    const int64_t b = x.size(0), c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
    const int64_t factor = ft * fs * fs;
    x = x.reshape({b, c, t / ft, ft, h / fs, fs, w / fs, fs}).permute({0, 1, 3, 5, 7, 2, 4, 6});
    x = x.reshape({b, out_channels, c * factor / out_channels, t / ft, h / fs, w / fs});
    return x.mean(2);
}

at::Tensor dup_up_3d(const at::Tensor& input, int64_t out_channels, int64_t ft, int64_t fs,
                     bool first_chunk) {
    const int64_t factor = ft * fs * fs;
    const int64_t repeats = out_channels * factor / input.size(1);
    auto x = input.repeat_interleave(repeats, 1);
    const int64_t b = x.size(0), t = x.size(2), h = x.size(3), w = x.size(4);
    x = x.reshape({b, out_channels, ft, fs, fs, t, h, w}).permute({0, 1, 5, 2, 6, 3, 7, 4});
    x = x.reshape({b, out_channels, t * ft, h * fs, w * fs});
    // The first latent frame stands for one video frame, not ft of them.
    if (first_chunk) x = x.slice(2, ft - 1);
    return x;
}

at::Tensor LayerStack::forward(const at::Tensor& input, FeatureCache& cache,
                               bool first_chunk) const {
    at::Tensor x = input;
    for (const auto* layer : layers_) x = layer->forward(x, cache, first_chunk);
    return x;
}

MidBlock::MidBlock(int64_t dim)
    : resnets_(child<LayerStack>("resnets")), attentions_(child<LayerStack>("attentions")) {
    resnets_.add<ResidualBlock>(dim, dim);
    attentions_.add<AttentionBlock>(dim);
    resnets_.add<ResidualBlock>(dim, dim);
}

at::Tensor MidBlock::forward(const at::Tensor& input, FeatureCache& cache, bool first_chunk) const {
    auto x = resnets_[0].forward(input, cache, first_chunk);
    for (std::size_t i = 0; i < attentions_.size(); ++i) {
        x = attentions_[i].forward(x, cache, first_chunk);
        x = resnets_[i + 1].forward(x, cache, first_chunk);
    }
    return x;
}

ResidualDownBlock::ResidualDownBlock(int64_t in, int64_t out, int64_t num_res_blocks, bool temporal,
                                     bool down)
    : out_dim_(out),
      factor_t_(temporal ? 2 : 1),
      factor_s_(down ? 2 : 1),
      resnets_(child<LayerStack>("resnets")) {
    if (in * factor_t_ * factor_s_ * factor_s_ % out != 0)
        throw Error(ErrorCode::Config,
                    "Wan VAE: a residual down block's input channels times its downsampling factor "
                    "must be a multiple of its output channels (check base_dim/dim_mult)");
    for (int64_t i = 0; i < num_res_blocks; ++i)
        resnets_.add<ResidualBlock>(i == 0 ? in : out, out);
    if (down)
        downsampler_ = &child<Resample>(
            "downsampler", out, temporal ? ResampleMode::Downsample3D : ResampleMode::Downsample2D);
}

at::Tensor ResidualDownBlock::forward(const at::Tensor& input, FeatureCache& cache,
                                      bool first_chunk) const {
    auto x = resnets_.forward(input, cache, first_chunk);
    if (downsampler_) x = downsampler_->forward(x, cache, first_chunk);
    return x + avg_down_3d(input, out_dim_, factor_t_, factor_s_);
}

UpBlock::UpBlock(int64_t in, int64_t out, int64_t num_res_blocks, bool residual, bool temporal,
                 bool up)
    : out_dim_(out),
      residual_(residual),
      factor_t_(temporal ? 2 : 1),
      resnets_(child<LayerStack>("resnets")) {
    for (int64_t i = 0; i <= num_res_blocks; ++i)
        resnets_.add<ResidualBlock>(i == 0 ? in : out, out);
    if (!up) return;
    const auto mode = temporal ? ResampleMode::Upsample3D : ResampleMode::Upsample2D;
    if (residual) {
        if (out * factor_t_ * 4 % in != 0)
            throw Error(
                ErrorCode::Config,
                "Wan VAE: a residual up block's output channels times its upsampling factor "
                "must be a multiple of its input channels (check decoder_base_dim/dim_mult)");
        upsampler_ = &child<Resample>("upsampler", out, mode, out);
    } else {
        // WanUpBlock keeps its resampler in a one-entry ModuleList.
        upsampler_ = &child<LayerStack>("upsamplers").add<Resample>(out, mode);
    }
}

at::Tensor UpBlock::forward(const at::Tensor& input, FeatureCache& cache, bool first_chunk) const {
    auto x = resnets_.forward(input, cache, first_chunk);
    if (upsampler_) x = upsampler_->forward(x, cache, first_chunk);
    if (residual_ && upsampler_) x = x + dup_up_3d(input, out_dim_, factor_t_, 2, first_chunk);
    return x;
}

namespace {
std::array<int64_t, 3> k3() { return {3, 3, 3}; }
std::array<int64_t, 3> ones() { return {1, 1, 1}; }
}  // namespace

Encoder::Encoder(const VAEConfig& c)
    : conv_in_(child<CausalConv3d>("conv_in", c.in_channels, c.base_dim, k3(), ones(), ones())),
      down_blocks_(child<LayerStack>("down_blocks")),
      mid_block_(child<MidBlock>("mid_block", c.base_dim * c.dim_mult.back())),
      norm_out_(child<RMSNorm>("norm_out", c.base_dim * c.dim_mult.back(), false)),
      conv_out_(child<CausalConv3d>("conv_out", c.base_dim * c.dim_mult.back(), c.z_dim * 2, k3(),
                                    ones(), ones())) {
    std::vector<int64_t> dims{c.base_dim};
    for (auto m : c.dim_mult) dims.push_back(c.base_dim * m);
    const std::size_t last = c.dim_mult.size() - 1;
    for (std::size_t i = 0; i < c.dim_mult.size(); ++i) {
        const bool down = i != last;
        const bool temporal = down && c.temperal_downsample[i];
        if (c.is_residual) {
            down_blocks_.add<ResidualDownBlock>(dims[i], dims[i + 1], c.num_res_blocks, temporal,
                                                down);
            continue;
        }
        int64_t in = dims[i];
        for (int64_t r = 0; r < c.num_res_blocks; ++r) {
            down_blocks_.add<ResidualBlock>(in, dims[i + 1]);
            in = dims[i + 1];
        }
        if (down)
            down_blocks_.add<Resample>(
                dims[i + 1], temporal ? ResampleMode::Downsample3D : ResampleMode::Downsample2D);
    }
}

at::Tensor Encoder::forward(const at::Tensor& input, FeatureCache& cache) const {
    auto x = conv_in_.forward_chunk(input, cache.next().frames);
    x = down_blocks_.forward(x, cache, false);
    x = mid_block_.forward(x, cache, false);
    x = at::silu(norm_out_.forward(x));
    return conv_out_.forward_chunk(x, cache.next().frames);
}

Decoder::Decoder(const VAEConfig& c)
    : conv_in_(child<CausalConv3d>("conv_in", c.z_dim, c.decoder_base_dim * c.dim_mult.back(), k3(),
                                   ones(), ones())),
      mid_block_(child<MidBlock>("mid_block", c.decoder_base_dim * c.dim_mult.back())),
      up_blocks_(child<LayerStack>("up_blocks")),
      norm_out_(child<RMSNorm>("norm_out", c.decoder_base_dim * c.dim_mult.front(), false)),
      conv_out_(child<CausalConv3d>("conv_out", c.decoder_base_dim * c.dim_mult.front(),
                                    c.out_channels, k3(), ones(), ones())) {
    const int64_t d = c.decoder_base_dim;
    std::vector<int64_t> dims{d * c.dim_mult.back()};
    for (auto it = c.dim_mult.rbegin(); it != c.dim_mult.rend(); ++it) dims.push_back(d * *it);
    const std::size_t n = c.dim_mult.size();
    for (std::size_t i = 0; i < n; ++i) {
        // The 2.1 decoder's upsamplers halve the channels, so later blocks take half as many in.
        const int64_t in = (i > 0 && !c.is_residual) ? dims[i] / 2 : dims[i];
        const bool up = i != n - 1;
        // temperal_upsample is temperal_downsample reversed.
        const bool temporal = up && c.temperal_downsample[n - 2 - i];
        up_blocks_.add<UpBlock>(in, dims[i + 1], c.num_res_blocks, c.is_residual, temporal, up);
    }
}

at::Tensor Decoder::forward(const at::Tensor& input, FeatureCache& cache, bool first_chunk) const {
    auto x = conv_in_.forward_chunk(input, cache.next().frames);
    x = mid_block_.forward(x, cache, first_chunk);
    x = up_blocks_.forward(x, cache, first_chunk);
    x = at::silu(norm_out_.forward(x));
    return conv_out_.forward_chunk(x, cache.next().frames);
}

at::Tensor patchify(const at::Tensor& x, int64_t p) {
    if (p <= 1) return x;
    const int64_t b = x.size(0), c = x.size(1), f = x.size(2), h = x.size(3), w = x.size(4);
    if (h % p != 0 || w % p != 0)
        throw Error(
            ErrorCode::Config,
            "Wan VAE: video height and width must be multiples of patch_size " + std::to_string(p));
    return x.reshape({b, c, f, h / p, p, w / p, p})
        .permute({0, 1, 6, 4, 2, 3, 5})
        .reshape({b, c * p * p, f, h / p, w / p});
}

at::Tensor unpatchify(const at::Tensor& x, int64_t p) {
    if (p <= 1) return x;
    const int64_t b = x.size(0), c = x.size(1) / (p * p), f = x.size(2), h = x.size(3),
                  w = x.size(4);
    return x.reshape({b, c, p, p, f, h, w})
        .permute({0, 1, 4, 5, 3, 6, 2})
        .reshape({b, c, f, h * p, w * p});
}

VAE::VAE(const VAEConfig& c)
    : config_(c),
      encoder_(child<Encoder>("encoder", c)),
      quant_conv_(child<CausalConv3d>("quant_conv", c.z_dim * 2, c.z_dim * 2, ones())),
      post_quant_conv_(child<CausalConv3d>("post_quant_conv", c.z_dim, c.z_dim, ones())),
      decoder_(child<Decoder>("decoder", c)) {}

at::Tensor VAE::encode_moments(const at::Tensor& video) const {
    if (video.dim() != 5 || (video.size(2) - 1) % kEncodeChunk != 0)
        throw Error(ErrorCode::Config, "Wan VAE: encode takes [B, C, 1 + 4k, H, W] videos");
    auto x = patchify(video, config_.patch_size);
    if (x.size(1) != config_.in_channels)
        throw Error(ErrorCode::Config,
                    "Wan VAE: the video has " + std::to_string(x.size(1)) +
                        " channels after patchify; vae/config.json in_channels is " +
                        std::to_string(config_.in_channels));
    FeatureCache cache;
    std::vector<at::Tensor> outs;
    const int64_t frames = x.size(2);
    // The first frame alone, then 4 frames per chunk: one latent frame each.
    for (int64_t start = 0; start < frames; start = start == 0 ? 1 : start + kEncodeChunk) {
        const int64_t end = start == 0 ? 1 : start + kEncodeChunk;
        cache.rewind();
        outs.push_back(encoder_.forward(x.slice(2, start, end), cache));
    }
    return quant_conv_.forward(at::cat(outs, 2));
}

at::Tensor VAE::encode(const at::Tensor& video) const {
    return encode_moments(video).slice(1, 0, config_.z_dim);
}

at::Tensor VAE::decode(const at::Tensor& latents) const {
    if (latents.dim() != 5 || latents.size(1) != config_.z_dim)
        throw Error(ErrorCode::Config, "Wan VAE: decode takes [B, " +
                                           std::to_string(config_.z_dim) + ", T, h, w] latents");
    auto x = post_quant_conv_.forward(latents);
    FeatureCache cache;
    std::vector<at::Tensor> outs;
    for (int64_t i = 0; i < x.size(2); ++i) {
        cache.rewind();
        outs.push_back(decoder_.forward(x.slice(2, i, i + 1), cache, /*first_chunk=*/i == 0));
    }
    return unpatchify(at::cat(outs, 2), config_.patch_size).clamp(-1.0, 1.0);
}

std::pair<at::Tensor, at::Tensor> VAE::latent_stats(const at::Tensor& z) const {
    // Checked here, not at load: the reference only needs them in the pipelines either.
    if (static_cast<int64_t>(config_.latents_mean.size()) != config_.z_dim ||
        static_cast<int64_t>(config_.latents_std.size()) != config_.z_dim)
        throw Error(ErrorCode::Config,
                    "Wan VAE: vae/config.json 'latents_mean' and 'latents_std' must have z_dim (" +
                        std::to_string(config_.z_dim) + ") entries");
    if (z.dim() != 5 || z.size(1) != config_.z_dim)
        throw Error(ErrorCode::Config,
                    "Wan VAE: latents must be [B, " + std::to_string(config_.z_dim) + ", T, h, w]");
    auto opts = at::TensorOptions().dtype(at::kDouble);
    auto shape = std::vector<int64_t>{1, config_.z_dim, 1, 1, 1};
    // The pipelines build fp32 tensors from the config lists, cast them to the latents' dtype and
    // take 1/std there; doing the same keeps bf16 latents bit-identical.
    auto mean = at::tensor(config_.latents_mean, opts)
                    .to(at::kFloat)
                    .reshape(shape)
                    .to(z.device(), z.scalar_type());
    auto std = at::tensor(config_.latents_std, opts)
                   .to(at::kFloat)
                   .reshape(shape)
                   .to(z.device(), z.scalar_type());
    return {mean, 1.0 / std};
}

at::Tensor VAE::normalize_latents(const at::Tensor& z) const {
    auto [mean, inv_std] = latent_stats(z);
    return (z - mean) * inv_std;
}

at::Tensor VAE::denormalize_latents(const at::Tensor& z) const {
    auto [mean, inv_std] = latent_stats(z);
    return z / inv_std + mean;
}

std::unique_ptr<VAE> VAE::load(const std::filesystem::path& dir, at::Device device,
                               at::ScalarType dtype) {
    auto config = VAEConfig::from(nn::ConfigFile::load(dir / "config.json"));
    auto vae = std::make_unique<VAE>(config);
    auto reader = nn::CheckpointReader::open_component(dir);
    nn::LoadOptions options;
    options.device = device;
    options.dtype = dtype;
    nn::load_weights(*vae, reader, options);
    return vae;
}

}  // namespace vmeval::wan
