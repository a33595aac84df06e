#include "models/torch/encoders/t5_encoder.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "vmeval/core/error.hpp"

namespace vmeval::enc {

namespace {

// transformers clamps fp16 activations after each sub-layer so an overflow does not turn into
// inf/NaN downstream (1000 below the fp16 max once an inf has appeared); other dtypes pass
// through. The limit stays a tensor so no device sync is needed.
at::Tensor clamp_fp16(const at::Tensor& x) {
    if (x.scalar_type() != at::kHalf) return x;
    auto limit = at::where(at::isinf(x).any(), at::scalar_tensor(65504.0 - 1000.0, x.options()),
                           at::scalar_tensor(65504.0, x.options()));
    return at::clamp(x, -limit, limit);
}

}  // namespace

at::Tensor t5_relative_position_buckets(const at::Tensor& relative_position, int64_t num_buckets,
                                        int64_t max_distance) {
    // The encoder is bidirectional: half of the buckets for keys after the query.
    const int64_t half = num_buckets / 2;
    auto buckets = (relative_position > 0).to(at::kLong) * half;
    auto distance = at::abs(relative_position);
    const int64_t max_exact = half / 2;
    auto is_small = distance < max_exact;
    // Same float32 arithmetic as the reference: a double log would move a few bucket edges.
    auto log_ratio = at::log(distance.to(at::kFloat) / max_exact) /
                     std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact));
    auto large = (log_ratio * static_cast<double>(half - max_exact)).to(at::kLong) + max_exact;
    large = at::clamp_max(large, half - 1);
    return buckets + at::where(is_small, distance, large);
}

T5Attention::T5Attention(const T5Config& config, bool has_relative_bias)
    : config_(config),
      q_(child<Linear>("q", config.d_model, config.num_heads * config.d_kv, false)),
      k_(child<Linear>("k", config.d_model, config.num_heads * config.d_kv, false)),
      v_(child<Linear>("v", config.d_model, config.num_heads * config.d_kv, false)),
      o_(child<Linear>("o", config.num_heads * config.d_kv, config.d_model, false)) {
    if (has_relative_bias)
        bias_ = &child<Embedding>("relative_attention_bias", config.relative_attention_num_buckets,
                                  config.num_heads);
}

at::Tensor T5Attention::position_bias(int64_t length) const {
    TORCH_CHECK(bias_, "T5Attention::position_bias: this layer has no relative_attention_bias");
    auto options = at::TensorOptions().dtype(at::kLong).device(bias_->weight().device());
    auto positions = at::arange(length, options);
    auto relative = positions.unsqueeze(0) - positions.unsqueeze(1);  // [query, key] = key - query
    auto buckets = t5_relative_position_buckets(relative, config_.relative_attention_num_buckets,
                                                config_.relative_attention_max_distance);
    return (*bias_)(buckets).permute({2, 0, 1}).unsqueeze(0);
}

at::Tensor T5Attention::operator()(const at::Tensor& x, const at::Tensor& bias) const {
    const auto batch = x.size(0), length = x.size(1);
    auto heads = [&](const Linear& proj) {
        return proj(x).view({batch, length, config_.num_heads, config_.d_kv}).transpose(1, 2);
    };
    auto q = heads(q_), k = heads(k_), v = heads(v_);
    // T5 has no 1/sqrt(d_kv) scaling: it was folded into the initialisation of q.
    auto out = at::scaled_dot_product_attention(q, k, v, bias.to(q.scalar_type()), 0.0, false, 1.0);
    return o_(out.transpose(1, 2).reshape({batch, length, config_.num_heads * config_.d_kv}));
}

T5SelfAttentionLayer::T5SelfAttentionLayer(const T5Config& config, bool has_relative_bias)
    : attention_(child<T5Attention>("SelfAttention", config, has_relative_bias)),
      norm_(child<T5LayerNorm>("layer_norm", config.d_model, config.layer_norm_epsilon)) {}

at::Tensor T5SelfAttentionLayer::operator()(const at::Tensor& x, const at::Tensor& bias) const {
    return x + attention_(norm_(x), bias);
}

T5FeedForward::T5FeedForward(const T5Config& config, bool keep_wo_fp32)
    : activation_(config.activation),
      wo_(child<Linear>("wo", config.d_ff, config.d_model, false,
                        keep_wo_fp32 ? Keep::Float32 : Keep::ComputeDType)) {
    if (config.gated) {
        wi_0_ = &child<Linear>("wi_0", config.d_model, config.d_ff, false);
        wi_1_ = &child<Linear>("wi_1", config.d_model, config.d_ff, false);
    } else {
        wi_ = &child<Linear>("wi", config.d_model, config.d_ff, false);
    }
}

at::Tensor T5FeedForward::operator()(const at::Tensor& x) const {
    auto hidden =
        wi_ ? activate((*wi_)(x), activation_) : activate((*wi_0_)(x), activation_) * (*wi_1_)(x);
    return wo_(hidden);  // Linear casts to wo's dtype (fp32 when kept so)
}

T5FeedForwardLayer::T5FeedForwardLayer(const T5Config& config, bool keep_wo_fp32)
    : ff_(child<T5FeedForward>("DenseReluDense", config, keep_wo_fp32)),
      norm_(child<T5LayerNorm>("layer_norm", config.d_model, config.layer_norm_epsilon)) {}

at::Tensor T5FeedForwardLayer::operator()(const at::Tensor& x) const {
    // With an fp32 wo the sum promotes the residual stream to fp32, as in the reference.
    return x + ff_(norm_(x));
}

at::Tensor T5Block::operator()(const at::Tensor& x, const at::Tensor& bias) const {
    auto h = clamp_fp16(layers_.attention(x, bias));
    return clamp_fp16(layers_.feed_forward(h));
}

T5Stack::T5Stack(const T5Config& config, bool keep_wo_fp32)
    : blocks(child<ModuleList<T5Block>>("block")),
      final_layer_norm(
          child<T5LayerNorm>("final_layer_norm", config.d_model, config.layer_norm_epsilon)) {
    for (int64_t i = 0; i < config.num_layers; ++i)
        blocks.push_back(config, config.bias_in_every_layer || i == 0, keep_wo_fp32);
}

T5Encoder::T5Encoder(T5Config config, bool keep_wo_fp32)
    : config_(std::move(config)),
      shared_(child<Embedding>("shared", config_.vocab_size, config_.d_model)),
      encoder_(child<T5Stack>("encoder", config_, keep_wo_fp32)) {}

at::Tensor T5Encoder::forward(const at::Tensor& input_ids,
                              const std::optional<at::Tensor>& attention_mask) const {
    TORCH_CHECK(input_ids.dim() == 2, "T5Encoder: input_ids must be [batch, length], got ",
                input_ids.sizes());
    const auto& weight = shared_.weight();
    auto ids = input_ids.to(weight.device(), at::kLong);
    const auto length = ids.size(1);
    std::optional<at::Tensor> keep;
    if (attention_mask) {
        TORCH_CHECK(attention_mask->sizes() == input_ids.sizes(),
                    "T5Encoder: attention_mask must match input_ids");
        keep = attention_mask->to(weight.device()).ne(0).view({ids.size(0), 1, 1, length});
    }
    auto lowest = [](at::ScalarType t) {
        switch (t) {
            case at::kHalf:
                return -65504.0;
            case at::kBFloat16:
                return -3.3895313892515355e38;
            case at::kDouble:
                return std::numeric_limits<double>::lowest();
            default:
                return static_cast<double>(std::numeric_limits<float>::lowest());
        }
    };
    // Padding keys get the dtype's lowest value rather than -inf, as the reference does, so a
    // fully padded row still softmaxes to finite numbers.
    auto masked = [&](const at::Tensor& bias) {
        if (!keep) return bias;
        return at::where(*keep, bias,
                         at::scalar_tensor(lowest(bias.scalar_type()), bias.options()));
    };

    auto x = shared_(ids);
    at::Tensor bias;
    for (const auto* block : encoder_.blocks) {
        if (block->attention().has_relative_bias())
            bias = masked(block->attention().position_bias(length));
        x = (*block)(x, bias);
    }
    return encoder_.final_layer_norm(x);
}

LoadOptions T5Encoder::load_options(const CheckpointReader& reader, at::Device device,
                                    at::ScalarType dtype) {
    LoadOptions options;
    options.device = device;
    options.dtype = dtype;
    const bool shared = reader.contains("shared.weight");
    const bool embed = reader.contains("encoder.embed_tokens.weight");
    if (embed && !shared)
        options.rename = [](const std::string& key) {
            return key == "encoder.embed_tokens.weight" ? std::string("shared.weight") : key;
        };
    else if (embed && shared)
        options.ignore_prefixes = {
            "encoder.embed_tokens.weight"};  // the tied copy of shared.weight
    return options;
}

std::unique_ptr<T5Encoder> T5Encoder::load(const std::filesystem::path& dir, at::Device device,
                                           at::ScalarType dtype) {
    auto config = T5Config::from(ConfigFile::load(dir / "config.json"));
    auto encoder = std::make_unique<T5Encoder>(config, dtype == at::kHalf);
    auto reader = CheckpointReader::open_component(dir);
    load_weights(*encoder, reader, load_options(reader, device, dtype));
    return encoder;
}

}  // namespace vmeval::enc
