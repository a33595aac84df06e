#pragma once

// Wan's causal video VAE (diffusers AutoencoderKLWan), Wan 2.1 (z_dim 16, 8x spatial) and Wan 2.2
// (is_residual, pixel patch 2, z_dim 48, 16x spatial). Both directions run causally in chunks with
// a per-convolution frame cache, as the reference does: encode takes the first frame alone and
// then 4 frames at a time, decode one latent frame at a time. Chunking is part of the result (the
// temporal resamplers treat the first chunk specially), so it is not an optimisation to drop.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/torch/blocks/causal_conv.hpp"
#include "models/torch/blocks/layers.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::wan {

/// vae/config.json.
struct VAEConfig {
    int64_t base_dim = 96;
    int64_t decoder_base_dim = 0;  ///< 0 = base_dim (Wan 2.2: 256 against 160)
    int64_t z_dim = 16;
    std::vector<int64_t> dim_mult{1, 2, 4, 4};
    int64_t num_res_blocks = 2;
    std::vector<bool> temperal_downsample{false, true, true};  ///< the reference's spelling
    std::vector<double> latents_mean;
    std::vector<double> latents_std;
    bool is_residual = false;
    int64_t in_channels = 3;
    int64_t out_channels = 3;
    int64_t patch_size = 0;  ///< pixel patchify before the encoder (Wan 2.2: 2); 0 = none
    int64_t scale_factor_temporal = 4;
    int64_t scale_factor_spatial = 8;

    static VAEConfig from(const nn::ConfigFile& file);
};

/// One cache slot per cached layer, in call order, as the reference's feat_cache list.
struct CacheSlot {
    bool seen = false;                 ///< the layer ran on an earlier chunk
    std::optional<at::Tensor> frames;  ///< trailing frames the next chunk needs
};

class FeatureCache {
public:
    /// Called at the start of each chunk: slots are then handed out in the same order again.
    void rewind() { next_ = 0; }
    CacheSlot& next();

private:
    std::vector<CacheSlot> slots_;
    std::size_t next_ = 0;
};

/// WanRMS_norm: L2-normalise over channels (in fp32 for half inputs), times sqrt(C) * gamma.
class RMSNorm : public nn::Module {
public:
    /// `images`: gamma [C, 1, 1] for per-frame 4D input, else [C, 1, 1, 1].
    RMSNorm(int64_t dim, bool images);
    at::Tensor forward(const at::Tensor& x) const;

private:
    double scale_;
    at::Tensor& gamma_;
};

/// A layer of the encoder/decoder stacks: run on one chunk with the shared cache.
class CachedLayer : public nn::Module {
public:
    virtual at::Tensor forward(const at::Tensor& x, FeatureCache& cache,
                               bool first_chunk) const = 0;
};

class ResidualBlock : public CachedLayer {
public:
    ResidualBlock(int64_t in_dim, int64_t out_dim);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const override;

private:
    RMSNorm& norm1_;
    nn::CausalConv3d& conv1_;
    RMSNorm& norm2_;
    nn::CausalConv3d& conv2_;
    nn::CausalConv3d* shortcut_ = nullptr;
};

/// Single-head self-attention within each frame (WanAttentionBlock).
class AttentionBlock : public CachedLayer {
public:
    explicit AttentionBlock(int64_t dim);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const override;

private:
    RMSNorm& norm_;
    nn::Conv2d& to_qkv_;
    nn::Conv2d& proj_;
};

enum class ResampleMode { Upsample2D, Upsample3D, Downsample2D, Downsample3D };

/// WanResample: per-frame 2x spatial resampling, plus 2x in time for the 3D modes (the first
/// chunk passes through in time).
class Resample : public CachedLayer {
public:
    /// `upsample_out_dim` 0 = dim / 2 (the 2.1 decoder halves channels when upsampling).
    Resample(int64_t dim, ResampleMode mode, int64_t upsample_out_dim = 0);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const override;

private:
    ResampleMode mode_;
    nn::Conv2d& conv_;
    nn::CausalConv3d* time_conv_ = nullptr;
};

/// Parameterless shortcuts of the 2.2 residual blocks: space/time-to-channel folding averaged
/// over channel groups (AvgDown3D) and its inverse by channel repetition (DupUp3D).
at::Tensor avg_down_3d(const at::Tensor& x, int64_t out_channels, int64_t factor_t,
                       int64_t factor_s);
at::Tensor dup_up_3d(const at::Tensor& x, int64_t out_channels, int64_t factor_t, int64_t factor_s,
                     bool first_chunk);

/// A named list of cached layers ("0", "1", ...) of mixed kinds.
class LayerStack : public nn::Module {
public:
    template <class M, class... Args>
    M& add(Args&&... args) {
        M& m = child<M>(std::to_string(layers_.size()), std::forward<Args>(args)...);
        layers_.push_back(&m);
        return m;
    }
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const;
    std::size_t size() const { return layers_.size(); }
    const CachedLayer& operator[](std::size_t i) const { return *layers_.at(i); }

private:
    std::vector<const CachedLayer*> layers_;
};

class MidBlock : public CachedLayer {
public:
    explicit MidBlock(int64_t dim);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const override;

private:
    LayerStack& resnets_;
    LayerStack& attentions_;
};

/// WanResidualDownBlock (2.2): resnets [-> downsampler] + avg_down_3d shortcut of the input.
class ResidualDownBlock : public CachedLayer {
public:
    ResidualDownBlock(int64_t in_dim, int64_t out_dim, int64_t num_res_blocks, bool temporal,
                      bool down);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const override;

private:
    int64_t out_dim_;
    int64_t factor_t_;
    int64_t factor_s_;
    LayerStack& resnets_;
    Resample* downsampler_ = nullptr;
};

/// WanResidualUpBlock (2.2) and WanUpBlock (2.1).
class UpBlock : public CachedLayer {
public:
    UpBlock(int64_t in_dim, int64_t out_dim, int64_t num_res_blocks, bool residual, bool temporal,
            bool up);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const override;

private:
    int64_t out_dim_;
    bool residual_;
    int64_t factor_t_;
    LayerStack& resnets_;
    Resample* upsampler_ = nullptr;
};

class Encoder : public nn::Module {
public:
    explicit Encoder(const VAEConfig& config);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache) const;

private:
    nn::CausalConv3d& conv_in_;
    LayerStack& down_blocks_;
    MidBlock& mid_block_;
    RMSNorm& norm_out_;
    nn::CausalConv3d& conv_out_;
};

class Decoder : public nn::Module {
public:
    explicit Decoder(const VAEConfig& config);
    at::Tensor forward(const at::Tensor& x, FeatureCache& cache, bool first_chunk) const;

private:
    nn::CausalConv3d& conv_in_;
    MidBlock& mid_block_;
    LayerStack& up_blocks_;
    RMSNorm& norm_out_;
    nn::CausalConv3d& conv_out_;
};

/// diffusers patchify/unpatchify of AutoencoderKLWan (channels ordered c, pw, ph).
at::Tensor patchify(const at::Tensor& x, int64_t patch);
at::Tensor unpatchify(const at::Tensor& x, int64_t patch);

class VAE : public nn::Module {
public:
    explicit VAE(const VAEConfig& config);

    /// video [B, 3, 1 + 4k, H, W] in [-1, 1] (Wan 2.2: 3 pixel channels, patchified here) -> the
    /// posterior's mean and log-variance stacked on channels [B, 2 z, 1 + k, H/s, W/s]
    /// (s = scale_factor_spatial).
    at::Tensor encode_moments(const at::Tensor& video) const;
    /// The posterior mode (mean) [B, z, 1 + k, H/s, W/s]: what the pipelines condition on.
    at::Tensor encode(const at::Tensor& video) const;
    /// latents [B, z, T, h, w] (not normalised) -> video [B, 3, 1 + 4 (T - 1), h s, w s] clamped
    /// to [-1, 1].
    at::Tensor decode(const at::Tensor& latents) const;

    /// (z - latents_mean) / latents_std per channel, as the Wan pipelines do after encode.
    at::Tensor normalize_latents(const at::Tensor& z) const;
    /// The inverse, before decode.
    at::Tensor denormalize_latents(const at::Tensor& z) const;

    const VAEConfig& config() const { return config_; }

    static std::unique_ptr<VAE> load(const std::filesystem::path& dir, at::Device device = at::kCPU,
                                     at::ScalarType dtype = at::kFloat);

private:
    /// mean [1, z, 1, 1, 1] and 1 / std in z's dtype, computed the pipelines' way.
    std::pair<at::Tensor, at::Tensor> latent_stats(const at::Tensor& z) const;

    VAEConfig config_;
    Encoder& encoder_;
    nn::CausalConv3d& quant_conv_;
    nn::CausalConv3d& post_quant_conv_;
    Decoder& decoder_;
};

}  // namespace vmeval::wan
