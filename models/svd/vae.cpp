#include "models/svd/vae.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "models/svd/unet.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::svd {

namespace {

nn::ResnetBlock2DOptions plain_resnet(int64_t in, int64_t out) {
    nn::ResnetBlock2DOptions o;
    o.in_channels = in;
    o.out_channels = out;
    o.temb_channels = 0;
    o.eps = 1e-6;
    return o;
}

/// The decoder's resnets: no time embedding, spatial eps 1e-6 but temporal 1e-5, and a learned
/// blend that starts fully spatial (merge_factor 0 with the switched mix).
nn::SpatioTemporalResBlockOptions decoder_resnet(int64_t in, int64_t out) {
    nn::SpatioTemporalResBlockOptions o;
    o.in_channels = in;
    o.out_channels = out;
    o.temb_channels = 0;
    o.eps = 1e-6;
    o.temporal_eps = 1e-5;
    o.merge_factor = 0.0;
    o.merge_strategy = nn::MergeStrategy::Learned;
    o.switch_spatial_to_temporal_mix = true;
    return o;
}

/// The VAE mid-block attention: one head over all channels, GroupNorm(32) on the input, biases and
/// a residual connection.
nn::AttentionOptions mid_attention(int64_t channels) {
    nn::AttentionOptions o;
    o.query_dim = channels;
    o.heads = 1;
    o.dim_head = channels;
    o.bias = true;
    o.eps = 1e-6;
    o.norm_num_groups = 32;
    o.residual_connection = true;
    return o;
}

}  // namespace

VAEConfig VAEConfig::from(const nn::ConfigFile& file) {
    VAEConfig c;
    c.in_channels = file.get<int64_t>("in_channels", 3);
    c.out_channels = file.get<int64_t>("out_channels", 3);
    c.block_out_channels = file.get<std::vector<int64_t>>("block_out_channels", {64});
    c.layers_per_block = file.get<int64_t>("layers_per_block", 1);
    c.latent_channels = file.get<int64_t>("latent_channels", 4);
    c.scaling_factor = file.get<double>("scaling_factor", 0.18215);
    c.force_upcast = file.get<bool>("force_upcast", true);
    const auto types =
        file.get<std::vector<std::string>>("down_block_types", {"DownEncoderBlock2D"});
    if (types.size() != c.block_out_channels.size() || c.block_out_channels.empty())
        throw Error(ErrorCode::Config,
                    file.path().string() +
                        ": 'down_block_types' and 'block_out_channels' must have the same length");
    for (const auto& t : types)
        if (t != "DownEncoderBlock2D")
            throw Error(
                ErrorCode::Config,
                file.path().string() + ": down block type '" + t +
                    "' is not supported (AutoencoderKLTemporalDecoder uses DownEncoderBlock2D)");
    for (auto ch : c.block_out_channels)
        if (ch % 32 != 0)
            throw Error(
                ErrorCode::Config,
                file.path().string() +
                    ": 'block_out_channels' must be multiples of 32 (GroupNorm with 32 groups)");
    return c;
}

EncoderDownBlock::EncoderDownBlock(int64_t in, int64_t out, int64_t layers, bool downsample)
    : resnets_(child<nn::ModuleList<nn::ResnetBlock2D>>("resnets")) {
    for (int64_t i = 0; i < layers; ++i) resnets_.push_back(plain_resnet(i == 0 ? in : out, out));
    if (downsample) {
        downsamplers_ = &child<nn::ModuleList<nn::Downsample2D>>("downsamplers");
        downsamplers_->push_back(out, true, out, 0);
    }
}

at::Tensor EncoderDownBlock::forward(at::Tensor x) const {
    static const at::Tensor none;
    for (const auto* r : resnets_) x = r->forward(x, none);
    if (downsamplers_) x = (*downsamplers_)[0].forward(x);
    return x;
}

EncoderMidBlock::EncoderMidBlock(int64_t channels)
    : resnets_(child<nn::ModuleList<nn::ResnetBlock2D>>("resnets")),
      attentions_(child<nn::ModuleList<nn::Attention>>("attentions")) {
    resnets_.push_back(plain_resnet(channels, channels));
    attentions_.push_back(mid_attention(channels));
    resnets_.push_back(plain_resnet(channels, channels));
}

at::Tensor EncoderMidBlock::forward(const at::Tensor& x) const {
    static const at::Tensor none;
    auto h = resnets_[0].forward(x, none);
    h = attentions_[0].forward(h);
    return resnets_[1].forward(h, none);
}

Encoder::Encoder(const VAEConfig& c)
    : conv_in_(child<nn::Conv2d>("conv_in", c.in_channels, c.block_out_channels[0], 3, 1, 1)),
      down_blocks_(child<nn::ModuleList<EncoderDownBlock>>("down_blocks")),
      mid_block_(child<EncoderMidBlock>("mid_block", c.block_out_channels.back())),
      conv_norm_out_(child<nn::GroupNorm>("conv_norm_out", 32, c.block_out_channels.back(), 1e-6)),
      conv_out_(child<nn::Conv2d>("conv_out", c.block_out_channels.back(), 2 * c.latent_channels, 3,
                                  1, 1)) {
    int64_t output = c.block_out_channels[0];
    for (std::size_t i = 0; i < c.block_out_channels.size(); ++i) {
        const int64_t input = output;
        output = c.block_out_channels[i];
        down_blocks_.push_back(input, output, c.layers_per_block,
                               i + 1 < c.block_out_channels.size());
    }
}

at::Tensor Encoder::forward(const at::Tensor& x) const {
    auto h = conv_in_.forward(x);
    for (const auto* b : down_blocks_) h = b->forward(h);
    h = mid_block_.forward(h);
    return conv_out_.forward(at::silu(conv_norm_out_.forward(h)));
}

DecoderMidBlock::DecoderMidBlock(int64_t channels, int64_t layers)
    : resnets_(child<nn::ModuleList<nn::SpatioTemporalResBlock>>("resnets")),
      attentions_(child<nn::ModuleList<nn::Attention>>("attentions")) {
    for (int64_t i = 0; i < layers; ++i) resnets_.push_back(decoder_resnet(channels, channels));
    attentions_.push_back(mid_attention(channels));
}

at::Tensor DecoderMidBlock::forward(const at::Tensor& x, const at::Tensor& indicator) const {
    static const at::Tensor none;
    auto h = resnets_[0].forward(x, none, indicator);
    // diffusers pairs resnets[1:] with the attentions, so only the first extra resnet runs.
    const std::size_t pairs = std::min(resnets_.size() - 1, attentions_.size());
    for (std::size_t i = 0; i < pairs; ++i) {
        h = attentions_[i].forward(h);
        h = resnets_[i + 1].forward(h, none, indicator);
    }
    return h;
}

DecoderUpBlock::DecoderUpBlock(int64_t in, int64_t out, int64_t layers, bool upsample)
    : resnets_(child<nn::ModuleList<nn::SpatioTemporalResBlock>>("resnets")) {
    for (int64_t i = 0; i < layers; ++i) resnets_.push_back(decoder_resnet(i == 0 ? in : out, out));
    if (upsample) {
        upsamplers_ = &child<nn::ModuleList<nn::Upsample2D>>("upsamplers");
        upsamplers_->push_back(out, true, out);
    }
}

at::Tensor DecoderUpBlock::forward(at::Tensor x, const at::Tensor& indicator) const {
    static const at::Tensor none;
    for (const auto* r : resnets_) x = r->forward(x, none, indicator);
    if (upsamplers_) x = (*upsamplers_)[0].forward(x);
    return x;
}

TemporalDecoder::TemporalDecoder(const VAEConfig& c)
    : conv_in_(
          child<nn::Conv2d>("conv_in", c.latent_channels, c.block_out_channels.back(), 3, 1, 1)),
      mid_block_(
          child<DecoderMidBlock>("mid_block", c.block_out_channels.back(), c.layers_per_block)),
      up_blocks_(child<nn::ModuleList<DecoderUpBlock>>("up_blocks")),
      conv_norm_out_(child<nn::GroupNorm>("conv_norm_out", 32, c.block_out_channels[0], 1e-6)),
      conv_out_(child<nn::Conv2d>("conv_out", c.block_out_channels[0], c.out_channels, 3, 1, 1)),
      time_conv_out_(child<nn::Conv3d>(
          "time_conv_out",
          nn::Conv3dOptions{c.out_channels, c.out_channels, {3, 1, 1}, {1, 1, 1}, {1, 0, 0}})) {
    const auto n = c.block_out_channels.size();
    int64_t output = c.block_out_channels[n - 1];
    for (std::size_t i = 0; i < n; ++i) {
        const int64_t prev = output;
        output = c.block_out_channels[n - 1 - i];
        up_blocks_.push_back(prev, output, c.layers_per_block + 1, i + 1 < n);
    }
}

at::Tensor TemporalDecoder::forward(const at::Tensor& z, int64_t frames) const {
    const int64_t batch = z.size(0) / frames;
    auto indicator = at::zeros({batch, frames}, z.options());
    auto h = conv_in_.forward(z);
    h = mid_block_.forward(h, indicator);
    for (const auto* b : up_blocks_) h = b->forward(h, indicator);
    h = conv_out_.forward(at::silu(conv_norm_out_.forward(h)));
    const int64_t bf = h.size(0), ch = h.size(1), height = h.size(2), width = h.size(3);
    auto video = h.reshape({batch, frames, ch, height, width}).permute({0, 2, 1, 3, 4});
    video = time_conv_out_.forward(video);
    return video.permute({0, 2, 1, 3, 4}).reshape({bf, ch, height, width});
}

VAE::VAE(VAEConfig config)
    : config_(std::move(config)),
      encoder_(child<Encoder>("encoder", config_)),
      decoder_(child<TemporalDecoder>("decoder", config_)),
      quant_conv_(child<nn::Conv2d>("quant_conv", 2 * config_.latent_channels,
                                    2 * config_.latent_channels, 1)) {}

at::Tensor VAE::encode(const at::Tensor& images) const {
    auto moments = quant_conv_.forward(encoder_.forward(images));
    return moments.narrow(1, 0, config_.latent_channels);
}

at::Tensor VAE::decode(const at::Tensor& latents, int64_t num_frames) const {
    if (num_frames <= 0 || latents.size(0) % num_frames != 0)
        throw Error(ErrorCode::Internal, "VAE::decode: " + std::to_string(latents.size(0)) +
                                             " latent frames are not a multiple of num_frames " +
                                             std::to_string(num_frames));
    return decoder_.forward(latents, num_frames);
}

at::Tensor VAE::decode_chunked(const at::Tensor& latents, int64_t chunk) const {
    if (chunk <= 0) throw Error(ErrorCode::Config, "decode_chunk_size must be at least 1");
    std::vector<at::Tensor> parts;
    for (int64_t i = 0; i < latents.size(0); i += chunk) {
        auto part = latents.narrow(0, i, std::min(chunk, latents.size(0) - i));
        parts.push_back(decode(part, part.size(0)));
    }
    return at::cat(parts, 0);
}

std::unique_ptr<VAE> VAE::load(const std::filesystem::path& dir, at::Device device,
                               at::ScalarType dtype, const std::string& variant) {
    auto vae = std::make_unique<VAE>(VAEConfig::from(nn::ConfigFile::load(dir / "config.json")));
    auto reader = open_checkpoint(dir, variant);
    nn::LoadOptions options;
    options.device = device;
    options.dtype = dtype;
    nn::load_weights(*vae, reader, options);
    return vae;
}

}  // namespace vmeval::svd
