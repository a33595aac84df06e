#pragma once

// The UNet/VAE convolution blocks of diffusers.models.resnet, downsampling.py and upsampling.py
// that SVD uses: ResnetBlock2D, Downsample2D, Upsample2D, TemporalResnetBlock, AlphaBlender and
// their composition SpatioTemporalResBlock.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <optional>

#include "models/torch/blocks/embeddings.hpp"
#include "models/torch/blocks/layers.hpp"
#include "models/torch/blocks/norms.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

enum class TimeEmbeddingNorm { Default, ScaleShift };

struct ResnetBlock2DOptions {
    int64_t in_channels = 0;
    int64_t out_channels = 0;         ///< 0 = in_channels
    int64_t temb_channels = 512;      ///< 0 = no time_emb_proj
    int64_t groups = 32;
    int64_t groups_out = 0;           ///< 0 = groups
    double eps = 1e-6;
    Activation non_linearity = Activation::SiLU;
    bool skip_time_act = false;
    TimeEmbeddingNorm time_embedding_norm = TimeEmbeddingNorm::Default;
    double output_scale_factor = 1.0;
    std::optional<bool> use_in_shortcut;  ///< default: in != out
    bool conv_shortcut_bias = true;
};

/// norm1 -> act -> conv1 (+ time_emb_proj(act(temb))) -> norm2 -> act -> conv2, plus the
/// (1x1 conv_shortcut) input, divided by output_scale_factor.
class ResnetBlock2D : public Module {
public:
    explicit ResnetBlock2D(const ResnetBlock2DOptions& options);
    /// x [B, C, H, W]; temb [B, temb_channels] or undefined.
    at::Tensor forward(const at::Tensor& x, const at::Tensor& temb) const;

private:
    ResnetBlock2DOptions options_;
    GroupNorm& norm1_;
    Conv2d& conv1_;
    Linear* time_emb_proj_ = nullptr;
    GroupNorm& norm2_;
    Conv2d& conv2_;
    Conv2d* conv_shortcut_ = nullptr;
};

/// Downsample2D: a stride-2 conv ("conv", padding 0 pads right/bottom by one first as the reference
/// does) or 2x2 average pooling when !use_conv.
class Downsample2D : public Module {
public:
    Downsample2D(int64_t channels, bool use_conv, int64_t out_channels = 0, int64_t padding = 1,
                 int64_t kernel_size = 3, bool bias = true);
    at::Tensor forward(const at::Tensor& x) const;

private:
    int64_t padding_;
    Conv2d* conv_ = nullptr;
};

/// Upsample2D: nearest x2 (or to `output_size`), then an optional 3x3 "conv".
class Upsample2D : public Module {
public:
    Upsample2D(int64_t channels, bool use_conv, int64_t out_channels = 0, int64_t kernel_size = 3,
               int64_t padding = 1, bool bias = true, bool interpolate = true);
    at::Tensor forward(const at::Tensor& x,
                       const std::optional<std::array<int64_t, 2>>& output_size = std::nullopt) const;

private:
    bool interpolate_;
    Conv2d* conv_ = nullptr;
};

/// TemporalResnetBlock: ResnetBlock2D's shape with (3, 1, 1) Conv3d over time, GroupNorm(32),
/// on x [B, C, T, H, W] with temb [B, T, temb_channels].
class TemporalResnetBlock : public Module {
public:
    TemporalResnetBlock(int64_t in_channels, int64_t out_channels = 0, int64_t temb_channels = 512,
                        double eps = 1e-6);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& temb) const;

private:
    GroupNorm& norm1_;
    Conv3d& conv1_;
    Linear* time_emb_proj_ = nullptr;
    GroupNorm& norm2_;
    Conv3d& conv2_;
    Conv3d* conv_shortcut_ = nullptr;
};

/// AlphaBlender merge strategies.
enum class MergeStrategy { Fixed, Learned, LearnedWithImages };
/// "fixed", "learned", "learned_with_images"; throws Error(Config) on others.
MergeStrategy parse_merge_strategy(const std::string& name);

/// alpha * spatial + (1 - alpha) * temporal with alpha = sigmoid(mix_factor), forced to 1 for
/// frames flagged in image_only_indicator [B, T] under "learned_with_images".
class AlphaBlender : public Module {
public:
    AlphaBlender(double alpha, MergeStrategy strategy, bool switch_spatial_to_temporal_mix = false);
    /// x_spatial/x_temporal are [B, C, T, H, W] or [B*T, S, C].
    at::Tensor forward(const at::Tensor& x_spatial, const at::Tensor& x_temporal,
                       const std::optional<at::Tensor>& image_only_indicator = std::nullopt) const;

private:
    MergeStrategy strategy_;
    bool switch_;
    at::Tensor& mix_factor_;
};

struct SpatioTemporalResBlockOptions {
    int64_t in_channels = 0;
    int64_t out_channels = 0;     ///< 0 = in_channels
    int64_t temb_channels = 512;
    double eps = 1e-6;
    double temporal_eps = 0;      ///< 0 = eps
    double merge_factor = 0.5;
    MergeStrategy merge_strategy = MergeStrategy::LearnedWithImages;
    bool switch_spatial_to_temporal_mix = false;
};

/// SVD's SpatioTemporalResBlock: spatial_res_block per frame, temporal_res_block across frames,
/// blended by time_mixer. x [B*T, C, H, W], temb [B*T, temb_channels], indicator [B, T].
class SpatioTemporalResBlock : public Module {
public:
    explicit SpatioTemporalResBlock(const SpatioTemporalResBlockOptions& options);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& image_only_indicator) const;

private:
    ResnetBlock2D& spatial_;
    TemporalResnetBlock& temporal_;
    AlphaBlender& mixer_;
};

}  // namespace vmeval::nn
