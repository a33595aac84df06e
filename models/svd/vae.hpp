#pragma once

// diffusers AutoencoderKLTemporalDecoder: Stable Diffusion's 2D KL encoder (8x spatial, no temporal
// compression) and a decoder whose resnets mix neighbouring frames (SpatioTemporalResBlock with a
// learned blend) and whose output passes a (3, 1, 1) Conv3d over time.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "models/torch/blocks/attention.hpp"
#include "models/torch/blocks/layers.hpp"
#include "models/torch/blocks/norms.hpp"
#include "models/torch/blocks/resnet.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::svd {

/// vae/config.json.
struct VAEConfig {
    int64_t in_channels = 3;
    int64_t out_channels = 3;
    std::vector<int64_t> block_out_channels;
    int64_t layers_per_block = 1;
    int64_t latent_channels = 4;
    double scaling_factor = 0.18215;
    bool force_upcast = true;

    /// Pixels per latent along each spatial axis: 2^(blocks - 1).
    int64_t spatial_factor() const { return int64_t{1} << (block_out_channels.size() - 1); }
    static VAEConfig from(const nn::ConfigFile& file);
};

/// DownEncoderBlock2D.
class EncoderDownBlock : public nn::Module {
public:
    EncoderDownBlock(int64_t in, int64_t out, int64_t layers, bool downsample);
    at::Tensor forward(at::Tensor x) const;

private:
    nn::ModuleList<nn::ResnetBlock2D>& resnets_;
    nn::ModuleList<nn::Downsample2D>* downsamplers_ = nullptr;
};

/// UNetMidBlock2D without time embedding: resnet, single-head self-attention, resnet.
class EncoderMidBlock : public nn::Module {
public:
    explicit EncoderMidBlock(int64_t channels);
    at::Tensor forward(const at::Tensor& x) const;

private:
    nn::ModuleList<nn::ResnetBlock2D>& resnets_;
    nn::ModuleList<nn::Attention>& attentions_;
};

/// diffusers.models.autoencoders.vae.Encoder (double_z).
class Encoder : public nn::Module {
public:
    explicit Encoder(const VAEConfig& config);
    at::Tensor forward(const at::Tensor& x) const;

private:
    nn::Conv2d& conv_in_;
    nn::ModuleList<EncoderDownBlock>& down_blocks_;
    EncoderMidBlock& mid_block_;
    nn::GroupNorm& conv_norm_out_;
    nn::Conv2d& conv_out_;
};

/// MidBlockTemporalDecoder.
class DecoderMidBlock : public nn::Module {
public:
    DecoderMidBlock(int64_t channels, int64_t layers);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& indicator) const;

private:
    nn::ModuleList<nn::SpatioTemporalResBlock>& resnets_;
    nn::ModuleList<nn::Attention>& attentions_;
};

/// UpBlockTemporalDecoder.
class DecoderUpBlock : public nn::Module {
public:
    DecoderUpBlock(int64_t in, int64_t out, int64_t layers, bool upsample);
    at::Tensor forward(at::Tensor x, const at::Tensor& indicator) const;

private:
    nn::ModuleList<nn::SpatioTemporalResBlock>& resnets_;
    nn::ModuleList<nn::Upsample2D>* upsamplers_ = nullptr;
};

/// TemporalDecoder.
class TemporalDecoder : public nn::Module {
public:
    explicit TemporalDecoder(const VAEConfig& config);
    /// z [B*F, latent, h, w] -> [B*F, out, H, W].
    at::Tensor forward(const at::Tensor& z, int64_t num_frames) const;

private:
    nn::Conv2d& conv_in_;
    DecoderMidBlock& mid_block_;
    nn::ModuleList<DecoderUpBlock>& up_blocks_;
    nn::GroupNorm& conv_norm_out_;
    nn::Conv2d& conv_out_;
    nn::Conv3d& time_conv_out_;
};

class VAE : public nn::Module {
public:
    explicit VAE(VAEConfig config);
    const VAEConfig& config() const { return config_; }

    /// images [B, 3, H, W] in [-1, 1] -> the posterior's mode (its mean) [B, latent, H/f, W/f],
    /// unscaled (the pipeline conditions on it without scaling_factor, as diffusers does).
    at::Tensor encode(const at::Tensor& images) const;
    /// latents [B*F, latent, h, w] of `num_frames` consecutive frames per video -> [B*F, 3, H, W].
    at::Tensor decode(const at::Tensor& latents, int64_t num_frames) const;
    /// The pipeline's decode: `chunk` frames at a time, each chunk decoded as its own clip (the
    /// temporal layers see only the frames of their chunk, as in diffusers).
    at::Tensor decode_chunked(const at::Tensor& latents, int64_t chunk) const;

    /// Reads `<dir>/config.json` and the weights (`variant` files preferred, see open_checkpoint).
    static std::unique_ptr<VAE> load(const std::filesystem::path& dir, at::Device device = at::kCPU,
                                     at::ScalarType dtype = at::kFloat,
                                     const std::string& variant = "");

private:
    VAEConfig config_;
    Encoder& encoder_;
    TemporalDecoder& decoder_;
    nn::Conv2d& quant_conv_;
};

}  // namespace vmeval::svd
