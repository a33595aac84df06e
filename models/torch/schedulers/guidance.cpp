#include "models/torch/schedulers/guidance.hpp"

#include <cmath>
#include <vector>

namespace vmeval::sched {

at::Tensor guide(const at::Tensor& uncond, const at::Tensor& cond, double scale) {
    return uncond + (cond - uncond) * scale;
}

at::Tensor guide(const at::Tensor& uncond, const at::Tensor& cond, const at::Tensor& scale) {
    return uncond + scale * (cond - uncond);
}

at::Tensor frame_guidance_scales(double min_scale, double max_scale, int64_t batch, int64_t frames,
                                 int64_t latent_rank, at::ScalarType dtype,
                                 const at::Device& device) {
    auto scale =
        at::linspace(min_scale, max_scale, frames, at::kFloat).unsqueeze(0).to(device, dtype);
    scale = scale.repeat({batch, 1});
    std::vector<int64_t> shape{batch, frames};
    shape.resize(static_cast<size_t>(std::max<int64_t>(latent_rank, 2)), 1);
    return scale.reshape(shape);
}

at::Tensor rescale_guidance(const at::Tensor& guided, const at::Tensor& cond, double rescale) {
    std::vector<int64_t> dims;
    for (int64_t d = 1; d < cond.dim(); ++d) dims.push_back(d);
    auto std_cond = cond.std(dims, /*unbiased=*/true, /*keepdim=*/true);
    auto std_guided = guided.std(dims, /*unbiased=*/true, /*keepdim=*/true);
    auto rescaled = guided * (std_cond / std_guided);
    return rescaled * rescale + guided * (1 - rescale);
}

double cogvideox_dynamic_scale(double scale, int steps, double timestep) {
    const double pi = 3.14159265358979323846;
    const double n = static_cast<double>(steps);
    return 1 + scale * ((1 - std::cos(pi * std::pow((n - timestep) / n, 5.0))) / 2);
}

}  // namespace vmeval::sched
