#include "models/torch/encoders/clip_vision.hpp"

#include <ATen/ATen.h>

#include "vmeval/core/error.hpp"

namespace vmeval::enc {

CLIPVisionConfig CLIPVisionConfig::from(const ConfigFile& file) {
    CLIPVisionConfig c;
    const auto where = file.path().string();
    c.hidden_size = file.get<int64_t>("hidden_size");
    c.intermediate_size = file.get<int64_t>("intermediate_size");
    c.num_hidden_layers = file.get<int64_t>("num_hidden_layers");
    c.num_attention_heads = file.get<int64_t>("num_attention_heads");
    c.num_channels = file.get<int64_t>("num_channels", 3);
    c.image_size = file.get<int64_t>("image_size");
    c.patch_size = file.get<int64_t>("patch_size");
    c.projection_dim = file.get<int64_t>("projection_dim", 512);
    c.layer_norm_eps = file.get<double>("layer_norm_eps", 1e-5);
    c.hidden_act = activation_from_name(file.get<std::string>("hidden_act", "quick_gelu"),
                                        where + " 'hidden_act'");
    c.with_projection = file.class_name() == "CLIPVisionModelWithProjection";
    if (c.hidden_size % c.num_attention_heads != 0)
        throw Error(ErrorCode::Config,
                    where + ": 'hidden_size' must be a multiple of 'num_attention_heads'");
    if (c.patch_size <= 0 || c.image_size % c.patch_size != 0)
        throw Error(ErrorCode::Config, where + ": 'image_size' must be a multiple of 'patch_size'");
    return c;
}

CLIPVisionEmbeddings::CLIPVisionEmbeddings(const CLIPVisionConfig& config)
    : config_(config),
      class_embedding_(param("class_embedding", {config.hidden_size})),
      patch_weight_(param("patch_embedding.weight", {config.hidden_size, config.num_channels,
                                                     config.patch_size, config.patch_size})),
      position_weight_(
          param("position_embedding.weight", {config.num_positions(), config.hidden_size})) {}

at::Tensor CLIPVisionEmbeddings::operator()(const at::Tensor& pixel_values) const {
    TORCH_CHECK(pixel_values.dim() == 4 && pixel_values.size(2) == config_.image_size &&
                    pixel_values.size(3) == config_.image_size,
                "CLIP vision: pixel_values must be [batch, ", config_.num_channels, ", ",
                config_.image_size, ", ", config_.image_size, "], got ", pixel_values.sizes());
    auto pixels = pixel_values.to(patch_weight_.device(), patch_weight_.scalar_type());
    auto patches =
        at::conv2d(pixels, patch_weight_, {}, config_.patch_size).flatten(2).transpose(1, 2);
    auto cls = class_embedding_.view({1, 1, -1}).expand({pixels.size(0), 1, config_.hidden_size});
    return at::cat({cls, patches}, 1) + position_weight_.unsqueeze(0);
}

CLIPAttention::CLIPAttention(const CLIPVisionConfig& config)
    : heads_(config.num_attention_heads),
      q_(child<Linear>("q_proj", config.hidden_size, config.hidden_size, true)),
      k_(child<Linear>("k_proj", config.hidden_size, config.hidden_size, true)),
      v_(child<Linear>("v_proj", config.hidden_size, config.hidden_size, true)),
      out_(child<Linear>("out_proj", config.hidden_size, config.hidden_size, true)) {}

at::Tensor CLIPAttention::operator()(const at::Tensor& x) const {
    const auto batch = x.size(0), tokens = x.size(1), dim = x.size(2);
    auto heads = [&](const Linear& proj) {
        return proj(x).view({batch, tokens, heads_, dim / heads_}).transpose(1, 2);
    };
    auto out = at::scaled_dot_product_attention(heads(q_), heads(k_),
                                                heads(v_));  // default scale 1/sqrt(head_dim)
    return out_(out.transpose(1, 2).reshape({batch, tokens, dim}));
}

CLIPMLP::CLIPMLP(const CLIPVisionConfig& config)
    : act_(config.hidden_act),
      fc1_(child<Linear>("fc1", config.hidden_size, config.intermediate_size, true)),
      fc2_(child<Linear>("fc2", config.intermediate_size, config.hidden_size, true)) {}

at::Tensor CLIPMLP::operator()(const at::Tensor& x) const { return fc2_(activate(fc1_(x), act_)); }

CLIPEncoderLayer::CLIPEncoderLayer(const CLIPVisionConfig& config)
    : norm1_(child<LayerNorm>("layer_norm1", config.hidden_size, config.layer_norm_eps)),
      attention_(child<CLIPAttention>("self_attn", config)),
      norm2_(child<LayerNorm>("layer_norm2", config.hidden_size, config.layer_norm_eps)),
      mlp_(child<CLIPMLP>("mlp", config)) {}

at::Tensor CLIPEncoderLayer::operator()(const at::Tensor& x) const {
    auto h = x + attention_(norm1_(x));
    return h + mlp_(norm2_(h));
}

CLIPEncoder::CLIPEncoder(const CLIPVisionConfig& config)
    : layers(child<ModuleList<CLIPEncoderLayer>>("layers")) {
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) layers.push_back(config);
}

CLIPVisionTransformer::CLIPVisionTransformer(const CLIPVisionConfig& config)
    : embeddings(child<CLIPVisionEmbeddings>("embeddings", config)),
      pre_layrnorm(child<LayerNorm>("pre_layrnorm", config.hidden_size, config.layer_norm_eps)),
      encoder(child<CLIPEncoder>("encoder", config)),
      post_layernorm(
          child<LayerNorm>("post_layernorm", config.hidden_size, config.layer_norm_eps)) {}

CLIPVisionEncoder::CLIPVisionEncoder(CLIPVisionConfig config)
    : config_(std::move(config)),
      vision_model_(child<CLIPVisionTransformer>("vision_model", config_)) {
    if (config_.with_projection)
        projection_ =
            &child<Linear>("visual_projection", config_.hidden_size, config_.projection_dim, false);
}

at::Tensor CLIPVisionEncoder::run_layers(const at::Tensor& pixel_values, std::size_t count,
                                         std::vector<at::Tensor>* states) const {
    auto x = vision_model_.pre_layrnorm(vision_model_.embeddings(pixel_values));
    if (states) states->push_back(x);
    for (std::size_t i = 0; i < count; ++i) {
        x = vision_model_.encoder.layers[i](x);
        if (states) states->push_back(x);
    }
    return x;
}

CLIPVisionOutput CLIPVisionEncoder::forward(const at::Tensor& pixel_values,
                                            bool all_hidden_states) const {
    CLIPVisionOutput out;
    out.last_hidden_state = run_layers(pixel_values, vision_model_.encoder.layers.size(),
                                       all_hidden_states ? &out.hidden_states : nullptr);
    out.pooled = vision_model_.post_layernorm(out.last_hidden_state.select(1, 0));
    if (projection_) out.image_embeds = (*projection_)(out.pooled);
    return out;
}

at::Tensor CLIPVisionEncoder::penultimate_hidden_state(const at::Tensor& pixel_values) const {
    const auto layers = vision_model_.encoder.layers.size();
    TORCH_CHECK(layers >= 1, "CLIP vision: no layers");
    return run_layers(pixel_values, layers - 1, nullptr);
}

LoadOptions CLIPVisionEncoder::load_options(const CheckpointReader& reader, at::Device device,
                                            at::ScalarType dtype) {
    LoadOptions options;
    options.device = device;
    options.dtype = dtype;
    options.ignore_prefixes = {"vision_model.embeddings.position_ids", "embeddings.position_ids"};
    if (!reader.contains("vision_model.embeddings.class_embedding") &&
        reader.contains("embeddings.class_embedding"))
        options.rename = [](const std::string& key) {
            return key.rfind("visual_projection.", 0) == 0 ? key : "vision_model." + key;
        };
    return options;
}

std::unique_ptr<CLIPVisionEncoder> CLIPVisionEncoder::load(const std::filesystem::path& dir,
                                                           at::Device device,
                                                           at::ScalarType dtype) {
    auto encoder = std::make_unique<CLIPVisionEncoder>(
        CLIPVisionConfig::from(ConfigFile::load(dir / "config.json")));
    auto reader = CheckpointReader::open_component(dir);
    load_weights(*encoder, reader, load_options(reader, device, dtype));
    return encoder;
}

}  // namespace vmeval::enc
