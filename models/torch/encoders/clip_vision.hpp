#pragma once

// The CLIP vision tower (transformers CLIPVisionModel / CLIPVisionModelWithProjection): class
// token + patch embedding + learned positions, pre-norm ViT layers, post_layernorm on the class
// token, and optionally visual_projection. SVD uses the projected image_embeds; Wan 2.1 uses the
// penultimate hidden states of every token. Module names are the checkpoint keys
// ("vision_model.encoder.layers.0.self_attn.q_proj.weight", "visual_projection.weight").

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "models/torch/encoders/layers.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/load.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::enc {

/// The config.json of an image_encoder folder (a transformers CLIPVisionConfig).
struct CLIPVisionConfig {
    int64_t hidden_size = 0;
    int64_t intermediate_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_channels = 3;
    int64_t image_size = 0;
    int64_t patch_size = 0;
    int64_t projection_dim = 0;
    double layer_norm_eps = 1e-5;
    Activation hidden_act = Activation::QuickGELU;
    bool with_projection = false;  ///< architectures[0] == "CLIPVisionModelWithProjection"

    int64_t num_positions() const {
        return (image_size / patch_size) * (image_size / patch_size) + 1;
    }
    /// Throws Error(Config) naming the file and key.
    static CLIPVisionConfig from(const ConfigFile& file);
};

/// "vision_model.embeddings".
class CLIPVisionEmbeddings : public Module {
public:
    explicit CLIPVisionEmbeddings(const CLIPVisionConfig& config);
    at::Tensor operator()(const at::Tensor& pixel_values) const;

private:
    const CLIPVisionConfig& config_;
    at::Tensor& class_embedding_;
    at::Tensor& patch_weight_;
    at::Tensor& position_weight_;
};

/// Multi-head self-attention with biases and 1/sqrt(head_dim) scaling.
class CLIPAttention : public Module {
public:
    explicit CLIPAttention(const CLIPVisionConfig& config);
    at::Tensor operator()(const at::Tensor& x) const;

private:
    int64_t heads_;
    Linear& q_;
    Linear& k_;
    Linear& v_;
    Linear& out_;
};

class CLIPMLP : public Module {
public:
    explicit CLIPMLP(const CLIPVisionConfig& config);
    at::Tensor operator()(const at::Tensor& x) const;

private:
    Activation act_;
    Linear& fc1_;
    Linear& fc2_;
};

/// "vision_model.encoder.layers.<i>": pre-norm attention and MLP with residuals.
class CLIPEncoderLayer : public Module {
public:
    explicit CLIPEncoderLayer(const CLIPVisionConfig& config);
    at::Tensor operator()(const at::Tensor& x) const;

private:
    LayerNorm& norm1_;
    CLIPAttention& attention_;
    LayerNorm& norm2_;
    CLIPMLP& mlp_;
};

/// "vision_model.encoder".
class CLIPEncoder : public Module {
public:
    explicit CLIPEncoder(const CLIPVisionConfig& config);
    ModuleList<CLIPEncoderLayer>& layers;
};

/// "vision_model".
class CLIPVisionTransformer : public Module {
public:
    explicit CLIPVisionTransformer(const CLIPVisionConfig& config);
    CLIPVisionEmbeddings& embeddings;
    LayerNorm& pre_layrnorm;  // sic: the checkpoint's spelling
    CLIPEncoder& encoder;
    LayerNorm& post_layernorm;
};

struct CLIPVisionOutput {
    at::Tensor last_hidden_state;  ///< [batch, tokens, hidden]
    at::Tensor pooled;             ///< post_layernorm(class token) [batch, hidden]
    at::Tensor
        image_embeds;  ///< visual_projection(pooled) [batch, projection]; with projection only
    std::vector<at::Tensor>
        hidden_states;  ///< embeddings, then each layer's output (when asked for)
};

class CLIPVisionEncoder : public Module {
public:
    explicit CLIPVisionEncoder(CLIPVisionConfig config);
    const CLIPVisionConfig& config() const { return config_; }
    /// pixel_values [batch, channels, image_size, image_size] (normalized, see
    /// clip_image_processor.hpp).
    CLIPVisionOutput forward(const at::Tensor& pixel_values, bool all_hidden_states = false) const;
    /// hidden_states[-2] (the input of the last layer) without running the last layer, as Wan 2.1
    /// uses it.
    at::Tensor penultimate_hidden_state(const at::Tensor& pixel_values) const;

    /// transformers 5 saves a bare CLIPVisionModel without the "vision_model." prefix that older
    /// checkpoints (and CLIPVisionModelWithProjection) have: both read into these names. The
    /// position_ids buffer older versions saved is an arange the model recomputes, so it is
    /// ignored.
    static LoadOptions load_options(const CheckpointReader& reader, at::Device device,
                                    at::ScalarType dtype);
    /// Reads `<dir>/config.json` and the weights of an image_encoder folder.
    static std::unique_ptr<CLIPVisionEncoder> load(const std::filesystem::path& dir,
                                                   at::Device device = at::kCPU,
                                                   at::ScalarType dtype = at::kFloat);

private:
    at::Tensor run_layers(const at::Tensor& pixel_values, std::size_t count,
                          std::vector<at::Tensor>* states) const;

    CLIPVisionConfig config_;
    CLIPVisionTransformer& vision_model_;
    Linear* projection_ = nullptr;
};

}  // namespace vmeval::enc
