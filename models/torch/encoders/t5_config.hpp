#pragma once

// The transformers config.json of a T5 or umT5 encoder (model_type "t5" / "umt5").

#include <cstdint>
#include <string>

#include "models/torch/encoders/layers.hpp"
#include "models/torch/runtime/config.hpp"

namespace vmeval::enc {

struct T5Config {
    int64_t vocab_size = 0;
    int64_t d_model = 0;
    int64_t d_kv = 0;
    int64_t d_ff = 0;
    int64_t num_layers = 0;
    int64_t num_heads = 0;
    int64_t relative_attention_num_buckets = 32;
    int64_t relative_attention_max_distance = 128;
    double layer_norm_epsilon = 1e-6;
    std::string feed_forward_proj = "relu";
    bool gated = false;  ///< "gated-<act>": wi_0/wi_1 instead of wi
    Activation activation = Activation::ReLU;
    bool bias_in_every_layer = false;  ///< umT5: each layer owns its relative_attention_bias

    /// Reads a component's config.json; throws Error(Config) naming the file and key.
    static T5Config from(const ConfigFile& file);
};

}  // namespace vmeval::enc
