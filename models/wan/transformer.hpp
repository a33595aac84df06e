#pragma once

// Wan's video diffusion transformer (diffusers WanTransformer3DModel): Conv3d patch embedding,
// the time/text/image condition embedder, DiTBlocks with 3D RoPE, the adaLN output head and
// unpatchify. One class serves Wan 2.1 T2V/I2V/FLF2V, both Wan 2.2 A14B experts and TI2V-5B
// (per-token timesteps); the differences are all in transformer/config.json.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/torch/blocks/dit_block.hpp"
#include "models/torch/blocks/feed_forward.hpp"
#include "models/torch/blocks/layers.hpp"
#include "models/torch/blocks/norms.hpp"
#include "models/torch/blocks/rope.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::wan {

/// transformer/config.json. Defaults are those of the diffusers class.
struct TransformerConfig {
    std::array<int64_t, 3> patch_size{1, 2, 2};
    int64_t num_attention_heads = 40;
    int64_t attention_head_dim = 128;
    int64_t in_channels = 16;
    int64_t out_channels = 16;
    int64_t text_dim = 4096;
    int64_t freq_dim = 256;
    int64_t ffn_dim = 13824;
    int64_t num_layers = 40;
    bool cross_attn_norm = true;
    double eps = 1e-6;
    int64_t image_dim = 0;          ///< CLIP width of Wan 2.1 I2V (1280); 0 = no image embedder
    int64_t added_kv_proj_dim = 0;  ///< image key/value branch in every block; 0 = none
    int64_t rope_max_seq_len = 1024;
    int64_t pos_embed_seq_len = 0;  ///< FLF2V: learned positions over both images' tokens; 0 = none

    int64_t inner_dim() const { return num_attention_heads * attention_head_dim; }
    /// Throws Error(Config) naming the file and key for wrong types and impossible values.
    static TransformerConfig from(const nn::ConfigFile& file);
};

/// nn.Linear whose parameters the reference keeps in fp32 whatever the model dtype
/// (condition_embedder.time_embedder is in WanTransformer3DModel._keep_in_fp32_modules).
class Fp32Linear : public nn::Module {
public:
    Fp32Linear(int64_t in_features, int64_t out_features);
    /// Computed in fp32, returned in fp32.
    at::Tensor forward(const at::Tensor& x) const;

private:
    at::Tensor& weight_;
    at::Tensor& bias_;
};

/// TimestepEmbedding (linear_1 -> SiLU -> linear_2) with fp32 weights.
class TimeEmbedder : public nn::Module {
public:
    TimeEmbedder(int64_t in_channels, int64_t dim);
    at::Tensor forward(const at::Tensor& x) const;

private:
    Fp32Linear& linear_1_;
    Fp32Linear& linear_2_;
};

/// PixArtAlphaTextProjection with GELU-tanh: text_dim -> dim -> dim.
class TextEmbedder : public nn::Module {
public:
    TextEmbedder(int64_t in_features, int64_t dim);
    at::Tensor forward(const at::Tensor& x) const;

private:
    nn::Linear& linear_1_;
    nn::Linear& linear_2_;
};

/// WanImageEmbedding: [pos_embed +] FP32LayerNorm -> FeedForward(GELU, mult 1) -> FP32LayerNorm.
class ImageEmbedder : public nn::Module {
public:
    ImageEmbedder(int64_t in_features, int64_t dim, int64_t pos_embed_seq_len);
    /// x [B', N, in]. With pos_embed (FLF2V) consecutive batch entries are joined into one
    /// sequence of pos_embed_seq_len tokens first, as the reference's view(-1, 2N, C) does.
    at::Tensor forward(const at::Tensor& x) const;

private:
    nn::LayerNorm& norm1_;
    nn::FeedForward& ff_;
    nn::LayerNorm& norm2_;
    at::Tensor* pos_embed_ = nullptr;
};

/// WanTimeTextImageEmbedding.
class ConditionEmbedder : public nn::Module {
public:
    explicit ConditionEmbedder(const TransformerConfig& config);

    struct Output {
        at::Tensor temb;           ///< [B, dim] or per token [B, S, dim], in the context dtype
        at::Tensor timestep_proj;  ///< [B, 6 * dim] or [B, S, 6 * dim]
        at::Tensor context;        ///< [B, L, dim]
        std::optional<at::Tensor> image_context;
    };
    /// timestep [B] or [B, S]; context [B, L, text_dim]; image [B', N, image_dim].
    Output forward(const at::Tensor& timestep, const at::Tensor& context,
                   const std::optional<at::Tensor>& image) const;

private:
    int64_t freq_dim_;
    TimeEmbedder& time_embedder_;
    nn::Linear& time_proj_;
    TextEmbedder& text_embedder_;
    ImageEmbedder* image_embedder_ = nullptr;
};

class Transformer : public nn::Module {
public:
    explicit Transformer(const TransformerConfig& config);

    /// hidden_states [B, in, F, H, W] (F, H, W multiples of the patch); timestep [B], or [B, S]
    /// with one value per patch token (Wan 2.2 TI2V: 0 on the conditioning frame); context
    /// [B, L, text_dim] (the pipelines pad it to 512 tokens); image [B, N, image_dim] for I2V
    /// models (FLF2V: [2B, N, image_dim], first and last frame per sample). Returns
    /// [B, out, F, H, W] in the input dtype.
    at::Tensor forward(const at::Tensor& hidden_states, const at::Tensor& timestep,
                       const at::Tensor& context,
                       const std::optional<at::Tensor>& image = std::nullopt) const;

    const TransformerConfig& config() const { return config_; }

    /// Reads `dir`/config.json and the (sharded) weights, on `device` in `dtype` (the modules the
    /// reference keeps in fp32 stay fp32).
    static std::unique_ptr<Transformer> load(const std::filesystem::path& dir,
                                             at::Device device = at::kCPU,
                                             at::ScalarType dtype = at::kFloat);

private:
    TransformerConfig config_;
    nn::WanRotaryEmbedding rope_;
    nn::Conv3d& patch_embedding_;
    ConditionEmbedder& condition_embedder_;
    nn::ModuleList<nn::DiTBlock>& blocks_;
    nn::LayerNorm norm_out_;
    nn::Linear& proj_out_;
    at::Tensor& scale_shift_table_;
};

}  // namespace vmeval::wan
