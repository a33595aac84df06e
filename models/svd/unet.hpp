#pragma once

// diffusers UNetSpatioTemporalConditionModel (Stable Video Diffusion's denoiser) with its
// checkpoint key names: SpatioTemporalResBlock resnets, TransformerSpatioTemporalModel attention
// (a spatial BasicTransformerBlock and a TemporalBasicTransformerBlock per layer, blended by a
// learned AlphaBlender), conditioned on the timestep plus three added time ids.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/torch/blocks/attention.hpp"
#include "models/torch/blocks/embeddings.hpp"
#include "models/torch/blocks/feed_forward.hpp"
#include "models/torch/blocks/layers.hpp"
#include "models/torch/blocks/norms.hpp"
#include "models/torch/blocks/resnet.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::svd {

/// A component folder's weights: the `variant` files (".fp16.", half the size) when the folder has
/// them and a variant is asked for, else the full-precision ones.
nn::CheckpointReader open_checkpoint(const std::filesystem::path& dir, const std::string& variant);

/// unet/config.json. Per-block values may be written as one number or a list; they are expanded
/// to one entry per down block here.
struct UNetConfig {
    int64_t in_channels = 8;
    int64_t out_channels = 4;
    std::vector<std::string> down_block_types;
    std::vector<std::string> up_block_types;
    std::vector<int64_t> block_out_channels;
    int64_t addition_time_embed_dim = 256;
    int64_t projection_class_embeddings_input_dim = 768;
    std::vector<int64_t> layers_per_block;
    std::vector<int64_t> cross_attention_dim;
    std::vector<int64_t> transformer_layers_per_block;
    std::vector<int64_t> num_attention_heads;
    int64_t num_frames = 25;

    /// Throws Error(Config) naming the file and key for a missing, malformed or unsupported value.
    static UNetConfig from(const nn::ConfigFile& file);
};

/// diffusers BasicTransformerBlock as SVD configures it: layer norms, self-attention,
/// cross-attention to the image embedding, GEGLU feed-forward, all pre-norm with residuals.
class BasicTransformerBlock : public nn::Module {
public:
    BasicTransformerBlock(int64_t dim, int64_t heads, int64_t head_dim,
                          int64_t cross_attention_dim);
    at::Tensor forward(const at::Tensor& x, const at::Tensor& context) const;

private:
    nn::LayerNorm& norm1_;
    nn::Attention& attn1_;
    nn::LayerNorm& norm2_;
    nn::Attention& attn2_;
    nn::LayerNorm& norm3_;
    nn::FeedForward& ff_;
};

/// diffusers TemporalBasicTransformerBlock: the same block run along the frame axis of each pixel,
/// with an extra input feed-forward (ff_in).
class TemporalBasicTransformerBlock : public nn::Module {
public:
    TemporalBasicTransformerBlock(int64_t dim, int64_t time_mix_inner_dim, int64_t heads,
                                  int64_t head_dim, int64_t cross_attention_dim);
    /// x [B*F, S, C]; context [B*S, tokens, cross_dim].
    at::Tensor forward(const at::Tensor& x, int64_t num_frames, const at::Tensor& context) const;

private:
    bool is_res_;
    nn::LayerNorm& norm_in_;
    nn::FeedForward& ff_in_;
    nn::LayerNorm& norm1_;
    nn::Attention& attn1_;
    nn::LayerNorm& norm2_;
    nn::Attention& attn2_;
    nn::LayerNorm& norm3_;
    nn::FeedForward& ff_;
};

/// diffusers TransformerSpatioTemporalModel.
class TransformerSpatioTemporal : public nn::Module {
public:
    TransformerSpatioTemporal(int64_t heads, int64_t head_dim, int64_t in_channels,
                              int64_t num_layers, int64_t cross_attention_dim);
    /// x [B*F, C, H, W]; context [B*F, tokens, cross_dim]; indicator [B, F].
    at::Tensor forward(const at::Tensor& x, const at::Tensor& context,
                       const at::Tensor& indicator) const;

private:
    int64_t in_channels_;
    nn::GroupNorm& norm_;
    nn::Linear& proj_in_;
    nn::ModuleList<BasicTransformerBlock>& blocks_;
    nn::ModuleList<TemporalBasicTransformerBlock>& temporal_blocks_;
    nn::TimestepEmbedding& time_pos_embed_;
    nn::Timesteps time_proj_;
    nn::AlphaBlender& time_mixer_;
    nn::Linear& proj_out_;
};

/// Conditioning shared by every block of one forward.
struct BlockInputs {
    const at::Tensor& temb;       ///< [B*F, temb]
    const at::Tensor& context;    ///< [B*F, tokens, cross_dim]
    const at::Tensor& indicator;  ///< [B, F]
};

/// DownBlockSpatioTemporal / CrossAttnDownBlockSpatioTemporal (with_attention).
class DownBlock : public nn::Module {
public:
    struct Options {
        int64_t in_channels, out_channels, temb_channels, num_layers;
        bool with_attention, add_downsample;
        int64_t transformer_layers, heads, cross_attention_dim;
    };
    explicit DownBlock(const Options& o);
    /// Returns the output; appends each skip connection to `skips`.
    at::Tensor forward(at::Tensor x, const BlockInputs& in, std::vector<at::Tensor>& skips) const;

private:
    nn::ModuleList<nn::SpatioTemporalResBlock>& resnets_;
    nn::ModuleList<TransformerSpatioTemporal>* attentions_ = nullptr;
    nn::ModuleList<nn::Downsample2D>* downsamplers_ = nullptr;
};

/// UpBlockSpatioTemporal / CrossAttnUpBlockSpatioTemporal (with_attention).
class UpBlock : public nn::Module {
public:
    struct Options {
        int64_t in_channels, prev_output_channels, out_channels, temb_channels, num_layers;
        bool with_attention, add_upsample;
        int64_t transformer_layers, heads, cross_attention_dim;
    };
    explicit UpBlock(const Options& o);
    std::size_t num_resnets() const { return resnets_.size(); }
    /// Consumes num_resnets() skips from the back of `skips`; `upsample_size` forces the upsampled
    /// size when the input size is not a multiple of the total downsampling.
    at::Tensor forward(at::Tensor x, const BlockInputs& in, std::vector<at::Tensor>& skips,
                       const std::optional<std::array<int64_t, 2>>& upsample_size) const;

private:
    nn::ModuleList<nn::SpatioTemporalResBlock>& resnets_;
    nn::ModuleList<TransformerSpatioTemporal>* attentions_ = nullptr;
    nn::ModuleList<nn::Upsample2D>* upsamplers_ = nullptr;
};

/// UNetMidBlockSpatioTemporal (one attention layer between two resnets).
class MidBlock : public nn::Module {
public:
    MidBlock(int64_t channels, int64_t temb_channels, int64_t transformer_layers, int64_t heads,
             int64_t cross_attention_dim);
    at::Tensor forward(const at::Tensor& x, const BlockInputs& in) const;

private:
    nn::ModuleList<nn::SpatioTemporalResBlock>& resnets_;
    nn::ModuleList<TransformerSpatioTemporal>& attentions_;
};

class UNet : public nn::Module {
public:
    explicit UNet(UNetConfig config);
    const UNetConfig& config() const { return config_; }

    /// sample [B, F, in_channels, H, W]; timestep a scalar (or [1] / [B]) float tensor;
    /// encoder_hidden_states [B, tokens, cross_dim]; added_time_ids [B, 3]. Returns [B, F, out, H,
    /// W].
    at::Tensor forward(const at::Tensor& sample, const at::Tensor& timestep,
                       const at::Tensor& encoder_hidden_states,
                       const at::Tensor& added_time_ids) const;

    /// Reads `<dir>/config.json` and the weights of a unet folder.
    static std::unique_ptr<UNet> load(const std::filesystem::path& dir,
                                      at::Device device = at::kCPU,
                                      at::ScalarType dtype = at::kFloat,
                                      const std::string& variant = "");

private:
    UNetConfig config_;
    nn::Conv2d& conv_in_;
    nn::Timesteps time_proj_;
    nn::TimestepEmbedding& time_embedding_;
    nn::Timesteps add_time_proj_;
    nn::TimestepEmbedding& add_embedding_;
    nn::ModuleList<DownBlock>& down_blocks_;
    MidBlock& mid_block_;
    nn::ModuleList<UpBlock>& up_blocks_;
    nn::GroupNorm& conv_norm_out_;
    nn::Conv2d& conv_out_;
};

}  // namespace vmeval::svd
