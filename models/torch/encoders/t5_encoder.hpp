#pragma once

// The encoder of T5 v1.1 (transformers T5EncoderModel: relative position bias computed by layer 0
// and shared by all layers) and of umT5 (UMT5EncoderModel: every layer has its own bias). Both
// skip the 1/sqrt(d) attention scaling and use T5's RMS layer norm. Module names equal the
// checkpoint keys ("shared.weight", "encoder.block.0.layer.0.SelfAttention.q.weight", ...).

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "models/torch/encoders/layers.hpp"
#include "models/torch/encoders/t5_config.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::enc {

/// T5Attention for the encoder: bidirectional, unscaled, optional bucketed relative position bias.
class T5Attention : public Module {
public:
    T5Attention(const T5Config& config, bool has_relative_bias);
    bool has_relative_bias() const { return bias_ != nullptr; }
    /// [1, heads, length, length] bias from the learned bucket table (needs has_relative_bias()).
    at::Tensor position_bias(int64_t length) const;
    /// `bias`: additive [1 or batch, heads, length, length] (position bias with the padding mask
    /// folded in).
    at::Tensor operator()(const at::Tensor& x, const at::Tensor& bias) const;

private:
    const T5Config& config_;
    Linear& q_;
    Linear& k_;
    Linear& v_;
    Linear& o_;
    Embedding* bias_ = nullptr;
};

/// The bucket index of each relative position (key - query), as transformers' bidirectional
/// _relative_position_bucket computes it (same float32 log arithmetic, so bucket edges agree).
at::Tensor t5_relative_position_buckets(const at::Tensor& relative_position, int64_t num_buckets,
                                        int64_t max_distance);

/// "layer.0": pre-norm self-attention with a residual.
class T5SelfAttentionLayer : public Module {
public:
    T5SelfAttentionLayer(const T5Config& config, bool has_relative_bias);
    T5Attention& attention() const { return attention_; }
    at::Tensor operator()(const at::Tensor& x, const at::Tensor& bias) const;

private:
    T5Attention& attention_;
    T5LayerNorm& norm_;
};

/// "DenseReluDense": wi (or gated wi_0 * wi_1), activation, wo.
class T5FeedForward : public Module {
public:
    T5FeedForward(const T5Config& config, bool keep_wo_fp32);
    at::Tensor operator()(const at::Tensor& x) const;

private:
    Activation activation_;
    Linear* wi_ = nullptr;
    Linear* wi_0_ = nullptr;
    Linear* wi_1_ = nullptr;
    Linear& wo_;
};

/// "layer.1": pre-norm feed-forward with a residual.
class T5FeedForwardLayer : public Module {
public:
    T5FeedForwardLayer(const T5Config& config, bool keep_wo_fp32);
    at::Tensor operator()(const at::Tensor& x) const;

private:
    T5FeedForward& ff_;
    T5LayerNorm& norm_;
};

/// The "layer" list of a block: "0" self-attention, "1" feed-forward.
class T5BlockLayers : public Module {
public:
    T5BlockLayers(const T5Config& config, bool has_relative_bias, bool keep_wo_fp32)
        : attention(child<T5SelfAttentionLayer>("0", config, has_relative_bias)),
          feed_forward(child<T5FeedForwardLayer>("1", config, keep_wo_fp32)) {}
    T5SelfAttentionLayer& attention;
    T5FeedForwardLayer& feed_forward;
};

/// One encoder block ("encoder.block.<i>").
class T5Block : public Module {
public:
    T5Block(const T5Config& config, bool has_relative_bias, bool keep_wo_fp32)
        : layers_(child<T5BlockLayers>("layer", config, has_relative_bias, keep_wo_fp32)) {}
    T5Attention& attention() const { return layers_.attention.attention(); }
    at::Tensor operator()(const at::Tensor& x, const at::Tensor& bias) const;

private:
    T5BlockLayers& layers_;
};

/// "encoder": the blocks and the final norm.
class T5Stack : public Module {
public:
    T5Stack(const T5Config& config, bool keep_wo_fp32);
    ModuleList<T5Block>& blocks;
    T5LayerNorm& final_layer_norm;
};

class T5Encoder : public Module {
public:
    /// keep_wo_fp32: load the feed-forward output projections ("wo") in fp32, as transformers does
    /// when it loads T5 in fp16 (its _keep_in_fp32_modules): the residual stream then stays fp32.
    explicit T5Encoder(T5Config config, bool keep_wo_fp32 = false);
    const T5Config& config() const { return config_; }
    /// input_ids [batch, length] (int64); attention_mask [batch, length] (1 = token, 0 = padding),
    /// absent = attend everything. Returns last_hidden_state [batch, length, d_model].
    at::Tensor forward(const at::Tensor& input_ids,
                       const std::optional<at::Tensor>& attention_mask = std::nullopt) const;

    /// How to read a T5 checkpoint into this module: the token table is tied between "shared" and
    /// "encoder.embed_tokens" and checkpoints store either name or both (the copies are equal).
    static LoadOptions load_options(const CheckpointReader& reader, at::Device device,
                                    at::ScalarType dtype);
    /// Reads `<dir>/config.json` and the weights of a text_encoder folder. fp16 keeps "wo" in fp32
    /// as transformers does; bf16 and fp32 load everything in `dtype`.
    static std::unique_ptr<T5Encoder> load(const std::filesystem::path& dir,
                                           at::Device device = at::kCPU,
                                           at::ScalarType dtype = at::kFloat);

private:
    T5Config config_;
    Embedding& shared_;
    T5Stack& encoder_;
};

}  // namespace vmeval::enc
