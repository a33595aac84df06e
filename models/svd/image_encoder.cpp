#include "models/svd/image_encoder.hpp"

#include <ATen/ATen.h>

#include "models/torch/blocks/attention.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::svd {

namespace {

nn::LayerNormOptions layer_norm(const ImageEncoderConfig& c) {
    nn::LayerNormOptions o;
    o.dim = c.hidden_size;
    o.eps = c.layer_norm_eps;
    return o;
}

}  // namespace

ImageEncoderConfig ImageEncoderConfig::from(const nn::ConfigFile& file) {
    ImageEncoderConfig c;
    if (file.class_name() != "CLIPVisionModelWithProjection")
        throw Error(ErrorCode::Config, file.path().string() + ": SVD's image_encoder must be a "
                                                              "CLIPVisionModelWithProjection (got '" +
                                           file.class_name() + "')");
    c.hidden_size = file.get<int64_t>("hidden_size");
    c.intermediate_size = file.get<int64_t>("intermediate_size");
    c.num_hidden_layers = file.get<int64_t>("num_hidden_layers");
    c.num_attention_heads = file.get<int64_t>("num_attention_heads");
    c.num_channels = file.get<int64_t>("num_channels", 3);
    c.image_size = file.get<int64_t>("image_size");
    c.patch_size = file.get<int64_t>("patch_size");
    c.projection_dim = file.get<int64_t>("projection_dim");
    c.layer_norm_eps = file.get<double>("layer_norm_eps", 1e-5);
    c.hidden_act = file.get<std::string>("hidden_act", "quick_gelu");
    if (c.hidden_act != "gelu" && c.hidden_act != "quick_gelu" && c.hidden_act != "gelu_new" &&
        c.hidden_act != "gelu_pytorch_tanh")
        throw Error(ErrorCode::Config, file.path().string() + ": 'hidden_act' \"" + c.hidden_act +
                                           "\" is not supported (gelu, quick_gelu, gelu_new, gelu_pytorch_tanh)");
    if (c.hidden_size % c.num_attention_heads != 0 || c.image_size % c.patch_size != 0)
        throw Error(ErrorCode::Config, file.path().string() +
                                           ": 'hidden_size' must divide by 'num_attention_heads' and 'image_size' "
                                           "by 'patch_size'");
    return c;
}

ClipLayer::SelfAttention::SelfAttention(const ImageEncoderConfig& c)
    : heads_(c.num_attention_heads),
      q_(child<nn::Linear>("q_proj", c.hidden_size, c.hidden_size)),
      k_(child<nn::Linear>("k_proj", c.hidden_size, c.hidden_size)),
      v_(child<nn::Linear>("v_proj", c.hidden_size, c.hidden_size)),
      out_(child<nn::Linear>("out_proj", c.hidden_size, c.hidden_size)) {}

at::Tensor ClipLayer::SelfAttention::forward(const at::Tensor& x) const {
    auto split = [&](const at::Tensor& t) { return t.unflatten(2, {heads_, -1}).transpose(1, 2); };
    auto out = nn::sdpa(split(q_.forward(x)), split(k_.forward(x)), split(v_.forward(x)));
    return out_.forward(out.transpose(1, 2).flatten(2));
}

ClipLayer::Mlp::Mlp(const ImageEncoderConfig& c)
    : act_(c.hidden_act),
      fc1_(child<nn::Linear>("fc1", c.hidden_size, c.intermediate_size)),
      fc2_(child<nn::Linear>("fc2", c.intermediate_size, c.hidden_size)) {}

at::Tensor ClipLayer::Mlp::forward(const at::Tensor& x) const {
    auto h = fc1_.forward(x);
    if (act_ == "gelu") h = at::gelu(h);
    else if (act_ == "quick_gelu") h = h * at::sigmoid(1.702 * h);
    else h = at::gelu(h, "tanh");
    return fc2_.forward(h);
}

ClipLayer::ClipLayer(const ImageEncoderConfig& c)
    : norm1_(child<nn::LayerNorm>("layer_norm1", layer_norm(c))),
      attn_(child<SelfAttention>("self_attn", c)),
      norm2_(child<nn::LayerNorm>("layer_norm2", layer_norm(c))),
      mlp_(child<Mlp>("mlp", c)) {}

at::Tensor ClipLayer::forward(const at::Tensor& x) const {
    auto h = x + attn_.forward(norm1_.forward(x));
    return h + mlp_.forward(norm2_.forward(h));
}

ImageEncoder::Tower::Embeddings::Embeddings(const ImageEncoderConfig& c)
    : class_embedding(param("class_embedding", {c.hidden_size})),
      patch(child<nn::Conv2d>("patch_embedding", c.num_channels, c.hidden_size, c.patch_size, c.patch_size, 0,
                              false)),
      positions(child<Positions>("position_embedding",
                                 (c.image_size / c.patch_size) * (c.image_size / c.patch_size) + 1, c.hidden_size)) {}

ImageEncoder::Tower::Encoder::Encoder(const ImageEncoderConfig& c)
    : layers(child<nn::ModuleList<ClipLayer>>("layers")) {
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers.push_back(c);
}

ImageEncoder::Tower::Tower(const ImageEncoderConfig& c)
    : embeddings(child<Embeddings>("embeddings", c)),
      pre_layrnorm(child<nn::LayerNorm>("pre_layrnorm", layer_norm(c))),
      encoder(child<Encoder>("encoder", c)),
      post_layernorm(child<nn::LayerNorm>("post_layernorm", layer_norm(c))) {}

ImageEncoder::ImageEncoder(ImageEncoderConfig config)
    : config_(std::move(config)),
      tower_(child<Tower>("vision_model", config_)),
      projection_(child<nn::Linear>("visual_projection", config_.hidden_size, config_.projection_dim, false)) {}

at::Tensor ImageEncoder::forward(const at::Tensor& pixel_values) const {
    const auto& e = tower_.embeddings;
    const auto dtype = e.patch.weight().scalar_type();
    auto patches = e.patch.forward(pixel_values.to(dtype)).flatten(2).transpose(1, 2);  // [B, N, D]
    auto cls = e.class_embedding.expand({patches.size(0), 1, -1});
    auto x = at::cat({cls, patches}, 1) + e.positions.weight.unsqueeze(0);
    x = tower_.pre_layrnorm.forward(x);
    for (const auto* layer : tower_.encoder.layers) x = layer->forward(x);
    auto pooled = tower_.post_layernorm.forward(x.select(1, 0));
    return projection_.forward(pooled);
}

std::unique_ptr<ImageEncoder> ImageEncoder::load(const std::filesystem::path& dir, at::Device device,
                                                 at::ScalarType dtype) {
    auto encoder = std::make_unique<ImageEncoder>(ImageEncoderConfig::from(nn::ConfigFile::load(dir / "config.json")));
    auto reader = nn::CheckpointReader::open_component(dir);
    nn::LoadOptions options;
    options.device = device;
    options.dtype = dtype;
    options.ignore_prefixes = {"vision_model.embeddings.position_ids"};
    nn::load_weights(*encoder, reader, options);
    return encoder;
}

}  // namespace vmeval::svd
