#include "models/torch/encoders/clip_image_processor.hpp"

#include <ATen/ATen.h>

#include "vmeval/core/error.hpp"

namespace vmeval::enc {

namespace {

int64_t edge(const ConfigFile& file, const std::string& key, const std::string& field,
             int64_t fallback) {
    if (!file.has(key)) return fallback;
    const auto& value = file.json().at(key);
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_object() && value.contains(field) && value.at(field).is_number_integer())
        return value.at(field).get<int64_t>();
    throw Error(ErrorCode::Config, file.path().string() + ": '" + key +
                                       "' must be a number or hold an integer '" + field + "'");
}

std::array<double, 3> triple(const ConfigFile& file, const std::string& key,
                             std::array<double, 3> fallback) {
    if (!file.has(key)) return fallback;
    auto values = file.get<std::vector<double>>(key);
    if (values.size() != 3)
        throw Error(ErrorCode::Config, file.path().string() + ": '" + key + "' must hold 3 values");
    return {values[0], values[1], values[2]};
}

}  // namespace

CLIPImageProcessorConfig CLIPImageProcessorConfig::from(const ConfigFile& file) {
    CLIPImageProcessorConfig c;
    c.do_resize = file.get<bool>("do_resize", true);
    c.shortest_edge = edge(file, "size", "shortest_edge", c.shortest_edge);
    c.do_center_crop = file.get<bool>("do_center_crop", true);
    c.crop_height = edge(file, "crop_size", "height", c.crop_height);
    c.crop_width = edge(file, "crop_size", "width", c.crop_width);
    c.do_rescale = file.get<bool>("do_rescale", true);
    c.rescale_factor = file.get<double>("rescale_factor", c.rescale_factor);
    c.do_normalize = file.get<bool>("do_normalize", true);
    c.image_mean = triple(file, "image_mean", c.image_mean);
    c.image_std = triple(file, "image_std", c.image_std);
    // 3 = PIL BICUBIC, the only filter implemented here.
    if (file.get<int64_t>("resample", 3) != 3)
        throw Error(ErrorCode::Config,
                    file.path().string() + ": only 'resample': 3 (bicubic) is supported");
    return c;
}

at::Tensor clip_normalize(const at::Tensor& pixels, const CLIPImageProcessorConfig& config) {
    TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == 3,
                "clip_normalize: pixels must be [batch, 3, h, w], got ", pixels.sizes());
    auto options = pixels.options().dtype(at::kFloat);
    auto mean = at::tensor(std::vector<double>(config.image_mean.begin(), config.image_mean.end()),
                           options.dtype(at::kDouble));
    auto std = at::tensor(std::vector<double>(config.image_std.begin(), config.image_std.end()),
                          options.dtype(at::kDouble));
    // The reference subtracts and divides in float32 with float32 mean/std.
    return (pixels.to(at::kFloat) - mean.to(at::kFloat).view({1, 3, 1, 1})) /
           std.to(at::kFloat).view({1, 3, 1, 1});
}

at::Tensor clip_preprocess(const at::Tensor& image, const CLIPImageProcessorConfig& config) {
    TORCH_CHECK(image.scalar_type() == at::kByte && (image.dim() == 2 || image.dim() == 3),
                "clip_preprocess: image must be [height, width, channels] uint8, got ",
                image.sizes(), " ", image.scalar_type());
    auto hwc = image.dim() == 2 ? image.unsqueeze(2) : image;
    const auto channels = hwc.size(2);
    TORCH_CHECK(channels == 1 || channels == 3 || channels == 4,
                "clip_preprocess: 1, 3 or 4 channels expected");
    if (channels == 1) hwc = hwc.expand({-1, -1, 3});
    if (channels == 4) hwc = hwc.slice(2, 0, 3);
    auto x = hwc.to(at::kCPU).permute({2, 0, 1}).unsqueeze(0).contiguous();  // [1, 3, H, W] uint8

    if (config.do_resize) {
        const int64_t h = x.size(2), w = x.size(3);
        // The short side becomes shortest_edge and the long side is truncated, as transformers
        // does.
        const int64_t s = config.shortest_edge;
        int64_t new_h = s, new_w = s;
        if (w <= h)
            new_h = static_cast<int64_t>(static_cast<double>(s) * h / w);
        else
            new_w = static_cast<int64_t>(static_cast<double>(s) * w / h);
        if (new_h != h || new_w != w)
            x = at::_upsample_bicubic2d_aa(x, {new_h, new_w}, /*align_corners=*/false);
    }
    if (config.do_center_crop) {
        const int64_t h = x.size(2), w = x.size(3);
        const int64_t ch = config.crop_height, cw = config.crop_width;
        if (h >= ch && w >= cw) {
            const int64_t top = (h - ch) / 2, left = (w - cw) / 2;
            x = x.slice(2, top, top + ch).slice(3, left, left + cw);
        } else {
            // Too small: centred on a zero canvas (the reference pads rather than failing).
            auto canvas = at::zeros({1, 3, std::max(h, ch), std::max(w, cw)}, x.options());
            const int64_t top = (canvas.size(2) - h + 1) / 2, left = (canvas.size(3) - w + 1) / 2;
            canvas.slice(2, top, top + h).slice(3, left, left + w).copy_(x);
            const int64_t ct = (canvas.size(2) - ch) / 2, cl = (canvas.size(3) - cw) / 2;
            x = canvas.slice(2, ct, ct + ch).slice(3, cl, cl + cw);
        }
    }
    auto pixels = x.to(at::kDouble);
    if (config.do_rescale) pixels = pixels * config.rescale_factor;
    pixels = pixels.to(at::kFloat);
    if (config.do_normalize) pixels = clip_normalize(pixels, config);
    return pixels.contiguous();
}

}  // namespace vmeval::enc
