#pragma once

// diffusers DDIMScheduler (Song et al. 2020), deterministic (eta = 0): CogVideoX-2B's sampler and
// the usual choice for zero-terminal-SNR v-prediction models (trailing spacing).

#include <string>

#include "models/torch/schedulers/schedule_math.hpp"
#include "models/torch/schedulers/scheduler.hpp"

namespace vmeval::sched {

/// Integer train timesteps for `steps` steps under diffusers' DDIM-family spacings (descending).
std::vector<int64_t> ddim_timesteps(const std::string& spacing, int64_t num_train_timesteps,
                                    int steps, int64_t steps_offset);

struct DDIMConfig {
    BetaConfig betas;
    bool clip_sample = true;
    bool set_alpha_to_one = true;
    int64_t steps_offset = 0;
    std::string prediction_type = "epsilon";  ///< epsilon | sample | v_prediction
    bool thresholding = false;
    double dynamic_thresholding_ratio = 0.995;
    double clip_sample_range = 1.0;
    double sample_max_value = 1.0;
    std::string timestep_spacing = "leading";  ///< leading | trailing | linspace

    static DDIMConfig from(const nn::ConfigFile& config);
};

class DDIMScheduler : public Scheduler {
public:
    explicit DDIMScheduler(DDIMConfig config);

    const char* class_name() const override { return "DDIMScheduler"; }
    int64_t num_train_timesteps() const override { return config_.betas.num_train_timesteps; }
    void set_timesteps(int steps, const at::Device& device,
                       std::optional<double> mu = std::nullopt) override;
    at::Tensor step(const at::Tensor& model_output, int step_index,
                    const at::Tensor& sample) override;
    /// sqrt(alphas_cumprod[t]) * clean + sqrt(1 - alphas_cumprod[t]) * noise.
    at::Tensor add_noise(const at::Tensor& clean, const at::Tensor& noise,
                         int step_index) const override;

    const at::Tensor& alphas_cumprod() const { return alphas_cumprod_; }
    const DDIMConfig& config() const { return config_; }

private:
    DDIMConfig config_;
    at::Tensor alphas_cumprod_;       // float32
    at::Tensor final_alpha_cumprod_;  // what "t = -1" maps to
    std::vector<int64_t> schedule_;
};

}  // namespace vmeval::sched
