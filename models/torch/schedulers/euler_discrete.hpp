#pragma once

// diffusers EulerDiscreteScheduler (Karras et al. 2022 Euler on the variance-exploding sigmas of a
// DDPM beta schedule), as Stable Video Diffusion configures it: Karras sigmas between sigma_min
// and sigma_max, v-prediction, continuous timesteps 0.25 ln(sigma), inputs scaled by
// 1/sqrt(sigma^2 + 1). Deterministic (s_churn = 0) only.

#include <optional>
#include <string>

#include "models/torch/schedulers/schedule_math.hpp"
#include "models/torch/schedulers/scheduler.hpp"

namespace vmeval::sched {

struct EulerDiscreteConfig {
    BetaConfig betas;
    std::string prediction_type = "epsilon";  ///< epsilon | v_prediction | sample | original_sample
    std::string interpolation_type = "linear";  ///< linear | log_linear
    bool use_karras_sigmas = false;
    bool use_exponential_sigmas = false;
    std::optional<double> sigma_min;
    std::optional<double> sigma_max;
    std::string timestep_spacing = "linspace";  ///< linspace | leading | trailing
    std::string timestep_type = "discrete";     ///< discrete | continuous
    int64_t steps_offset = 0;
    std::string final_sigmas_type = "zero";  ///< zero | sigma_min

    static EulerDiscreteConfig from(const nn::ConfigFile& config);
};

class EulerDiscreteScheduler : public Scheduler {
public:
    explicit EulerDiscreteScheduler(EulerDiscreteConfig config);

    const char* class_name() const override { return "EulerDiscreteScheduler"; }
    int64_t num_train_timesteps() const override { return config_.betas.num_train_timesteps; }
    void set_timesteps(int steps, const at::Device& device,
                       std::optional<double> mu = std::nullopt) override;
    /// sqrt(max sigma^2 + 1) for "leading" spacing, else the max sigma (float32 arithmetic).
    double init_noise_sigma() const override;
    at::Tensor scale_model_input(const at::Tensor& sample, int step_index) const override;
    at::Tensor step(const at::Tensor& model_output, int step_index,
                    const at::Tensor& sample) override;
    /// clean + noise * sigma.
    at::Tensor add_noise(const at::Tensor& clean, const at::Tensor& noise,
                         int step_index) const override;

    const EulerDiscreteConfig& config() const { return config_; }

private:
    bool continuous_timesteps() const;

    EulerDiscreteConfig config_;
    at::Tensor alphas_cumprod_;  // float32, as diffusers keeps it
};

}  // namespace vmeval::sched
