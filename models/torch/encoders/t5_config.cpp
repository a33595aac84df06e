#include "models/torch/encoders/t5_config.hpp"

#include "vmeval/core/error.hpp"

namespace vmeval::enc {

T5Config T5Config::from(const ConfigFile& file) {
    T5Config c;
    const auto where = file.path().string();
    auto model_type = file.get<std::string>("model_type");
    if (model_type != "t5" && model_type != "umt5")
        throw Error(ErrorCode::Config, where + ": model_type '" + model_type +
                                           "' is not a T5 encoder (expected \"t5\" or \"umt5\"); "
                                           "check the text_encoder folder");
    c.bias_in_every_layer = model_type == "umt5";
    c.vocab_size = file.get<int64_t>("vocab_size");
    c.d_model = file.get<int64_t>("d_model");
    c.d_kv = file.get<int64_t>("d_kv");
    c.d_ff = file.get<int64_t>("d_ff");
    c.num_layers = file.get<int64_t>("num_layers");
    c.num_heads = file.get<int64_t>("num_heads");
    c.relative_attention_num_buckets = file.get<int64_t>("relative_attention_num_buckets", 32);
    c.relative_attention_max_distance = file.get<int64_t>("relative_attention_max_distance", 128);
    c.layer_norm_epsilon = file.get<double>("layer_norm_epsilon", 1e-6);
    c.feed_forward_proj = file.get<std::string>("feed_forward_proj", "relu");

    // transformers derives the activation from feed_forward_proj and ignores a stored
    // dense_act_fn; old v1.1 configs carry only feed_forward_proj.
    auto dash = c.feed_forward_proj.find('-');
    std::string act = c.feed_forward_proj;
    if (dash != std::string::npos) {
        if (c.feed_forward_proj.substr(0, dash) != "gated" ||
            c.feed_forward_proj.find('-', dash + 1) != std::string::npos)
            throw Error(ErrorCode::Config,
                        where + ": 'feed_forward_proj' is '" + c.feed_forward_proj +
                            "'; expected '<act>' or 'gated-<act>', e.g. 'gated-gelu'");
        c.gated = true;
        act = c.feed_forward_proj.substr(dash + 1);
    }
    if (c.feed_forward_proj == "gated-gelu") act = "gelu_new";
    c.activation = activation_from_name(act, where + " 'feed_forward_proj'");

    if (c.relative_attention_num_buckets < 4 ||
        c.relative_attention_max_distance <= c.relative_attention_num_buckets / 4)
        throw Error(ErrorCode::Config,
                    where + ": relative_attention_num_buckets/max_distance are out of range");
    return c;
}

}  // namespace vmeval::enc
