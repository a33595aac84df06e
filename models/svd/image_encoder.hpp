#pragma once

// SVD's image encoder, transformers' CLIPVisionModelWithProjection (OpenCLIP ViT-H/14 in the real
// checkpoint), reduced to what the pipeline uses: the projected class token, `image_embeds`.
//
// Local to SVD on purpose: models/torch/encoders/layers.hpp declares its own vmeval::nn::Linear,
// LayerNorm, Activation and activate() beside models/torch/blocks/ ones, so a target cannot include
// both or link both objects (nn::activate is defined in each). This tower is built from the
// blocks' layers instead; module names are the checkpoint keys ("vision_model.encoder.layers.0.
// self_attn.q_proj.weight", "visual_projection.weight").

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "models/torch/blocks/layers.hpp"
#include "models/torch/blocks/norms.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::svd {

/// image_encoder/config.json (a transformers CLIPVisionConfig).
struct ImageEncoderConfig {
    int64_t hidden_size = 0;
    int64_t intermediate_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_channels = 3;
    int64_t image_size = 224;
    int64_t patch_size = 14;
    int64_t projection_dim = 0;
    double layer_norm_eps = 1e-5;
    std::string hidden_act = "gelu";  ///< gelu | quick_gelu | gelu_new | gelu_pytorch_tanh

    static ImageEncoderConfig from(const nn::ConfigFile& file);
};

class ClipLayer : public nn::Module {
public:
    explicit ClipLayer(const ImageEncoderConfig& c);
    at::Tensor forward(const at::Tensor& x) const;

private:
    class SelfAttention : public nn::Module {
    public:
        explicit SelfAttention(const ImageEncoderConfig& c);
        at::Tensor forward(const at::Tensor& x) const;

    private:
        int64_t heads_;
        nn::Linear& q_;
        nn::Linear& k_;
        nn::Linear& v_;
        nn::Linear& out_;
    };
    class Mlp : public nn::Module {
    public:
        explicit Mlp(const ImageEncoderConfig& c);
        at::Tensor forward(const at::Tensor& x) const;

    private:
        std::string act_;
        nn::Linear& fc1_;
        nn::Linear& fc2_;
    };
    nn::LayerNorm& norm1_;
    SelfAttention& attn_;
    nn::LayerNorm& norm2_;
    Mlp& mlp_;
};

class ImageEncoder : public nn::Module {
public:
    explicit ImageEncoder(ImageEncoderConfig config);
    const ImageEncoderConfig& config() const { return config_; }
    /// pixel_values [B, 3, S, S] (CLIP-normalized, S = image_size) -> image_embeds [B, projection].
    at::Tensor forward(const at::Tensor& pixel_values) const;

    /// Reads an image_encoder folder; the position_ids buffer older transformers saved is ignored,
    /// and checkpoints without the "vision_model." prefix are not SVD's (which always has it).
    static std::unique_ptr<ImageEncoder> load(const std::filesystem::path& dir, at::Device device = at::kCPU,
                                              at::ScalarType dtype = at::kFloat);

private:
    /// "vision_model": embeddings, pre-norm, encoder layers, post-norm.
    class Tower : public nn::Module {
    public:
        explicit Tower(const ImageEncoderConfig& c);
        class Embeddings : public nn::Module {
        public:
            explicit Embeddings(const ImageEncoderConfig& c);
            at::Tensor& class_embedding;
            nn::Conv2d& patch;
            class Positions : public nn::Module {
            public:
                explicit Positions(int64_t count, int64_t dim) : weight(param("weight", {count, dim})) {}
                at::Tensor& weight;
            };
            Positions& positions;
        };
        class Encoder : public nn::Module {
        public:
            explicit Encoder(const ImageEncoderConfig& c);
            nn::ModuleList<ClipLayer>& layers;
        };
        Embeddings& embeddings;
        nn::LayerNorm& pre_layrnorm;  // sic: the checkpoint's spelling
        Encoder& encoder;
        nn::LayerNorm& post_layernorm;
    };

    ImageEncoderConfig config_;
    Tower& tower_;
    nn::Linear& projection_;
};

}  // namespace vmeval::svd
