#pragma once

// diffusers UniPCMultistepScheduler (Zhao et al. 2023: a multistep predictor plus a corrector that
// reuses the next model evaluation). Wan 2.1/2.2 configure it with flow sigmas, flow_prediction,
// flow_shift 3.0 or 5.0, solver order 2, bh2, lower_order_final and predict_x0. The DDPM
// (epsilon / v / sample, beta-schedule) variants are supported too; solver_p is not.

#include <optional>
#include <string>
#include <vector>

#include "models/torch/schedulers/schedule_math.hpp"
#include "models/torch/schedulers/scheduler.hpp"

namespace vmeval::sched {

struct UniPCConfig {
    BetaConfig betas;
    int solver_order = 2;
    std::string prediction_type = "epsilon";  ///< epsilon | sample | v_prediction | flow_prediction
    bool thresholding = false;
    double dynamic_thresholding_ratio = 0.995;
    double sample_max_value = 1.0;
    bool predict_x0 = true;
    std::string solver_type = "bh2";  ///< bh1 | bh2 (diffusers maps midpoint/heun/logrho to bh2)
    bool lower_order_final = true;
    std::vector<int> disable_corrector;
    bool use_karras_sigmas = false;
    bool use_exponential_sigmas = false;
    bool use_flow_sigmas = false;
    double flow_shift = 1.0;
    std::string timestep_spacing = "linspace";
    int64_t steps_offset = 0;
    std::string final_sigmas_type = "zero";
    bool use_dynamic_shifting = false;
    std::string time_shift_type = "exponential";
    std::optional<double> sigma_min;
    std::optional<double> sigma_max;
    std::optional<double> shift_terminal;

    static UniPCConfig from(const nn::ConfigFile& config);
};

class UniPCMultistepScheduler : public Scheduler {
public:
    explicit UniPCMultistepScheduler(UniPCConfig config);

    const char* class_name() const override { return "UniPCMultistepScheduler"; }
    int64_t num_train_timesteps() const override { return config_.betas.num_train_timesteps; }
    void set_timesteps(int steps, const at::Device& device,
                       std::optional<double> mu = std::nullopt) override;
    at::Tensor step(const at::Tensor& model_output, int step_index,
                    const at::Tensor& sample) override;
    /// alpha_t * clean + sigma_t * noise (alpha_t = 1 - sigma for flow sigmas).
    at::Tensor add_noise(const at::Tensor& clean, const at::Tensor& noise,
                         int step_index) const override;

    const UniPCConfig& config() const { return config_; }

private:
    struct AlphaSigma {
        at::Tensor alpha, sigma;
    };
    AlphaSigma alpha_sigma(const at::Tensor& sigma) const;
    at::Tensor lambda(int index) const;  // log(alpha) - log(sigma) of sigmas_[index]
    at::Tensor convert_model_output(const at::Tensor& model_output, int index,
                                    const at::Tensor& sample) const;
    // The UniP predictor from `index` to `index + 1` and the UniC corrector of the sample at
    // `index`.
    at::Tensor predict(const at::Tensor& x, int order, int index) const;
    // The corrector rebuilds the step into `index` from the previous sample with the new output.
    at::Tensor correct(const at::Tensor& model_t, const at::Tensor& last_sample, int order,
                       int index) const;

    UniPCConfig config_;
    at::Tensor alphas_cumprod_;
    std::vector<at::Tensor> model_outputs_;  // newest last; undefined until filled
    at::Tensor last_sample_;
    int lower_order_nums_ = 0;
    int this_order_ = 1;
    int next_index_ = -1;  // -1: no step taken since set_timesteps()
};

}  // namespace vmeval::sched
