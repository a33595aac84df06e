#pragma once

// diffusers CogVideoXDPMScheduler: a stochastic second-order DPM-Solver++ (2M SDE) on CogVideoX's
// SNR-shifted alphas_cumprod. Each step draws fresh Gaussian noise (whatever eta is), and from the
// second step on it blends the current x0 prediction with the previous one, so the pipeline
// threads old_pred_original_sample and the previous timestep through every call. step_dpm()
// is that upstream call; step() keeps the same state itself for the generic loop.

#include <optional>
#include <string>

#include "models/torch/schedulers/schedule_math.hpp"
#include "models/torch/schedulers/scheduler.hpp"

namespace vmeval::sched {

struct CogVideoXDPMConfig {
    BetaConfig betas{1000, 0.00085, 0.012, "scaled_linear", {}, false};
    bool set_alpha_to_one = true;
    int64_t steps_offset = 0;
    std::string prediction_type = "epsilon";  ///< epsilon | sample | v_prediction
    std::string timestep_spacing = "leading";
    double snr_shift_scale = 3.0;

    static CogVideoXDPMConfig from(const nn::ConfigFile& config);
};

class CogVideoXDPMScheduler : public Scheduler {
public:
    explicit CogVideoXDPMScheduler(CogVideoXDPMConfig config);

    const char* class_name() const override { return "CogVideoXDPMScheduler"; }
    int64_t num_train_timesteps() const override { return config_.betas.num_train_timesteps; }
    void set_timesteps(int steps, const at::Device& device,
                       std::optional<double> mu = std::nullopt) override;

    struct Result {
        at::Tensor prev_sample;
        at::Tensor pred_original_sample;  ///< pass back as old_pred_original_sample next step
    };
    /// One step from train timestep `timestep`; `old_pred_original_sample` is undefined and
    /// `timestep_back` empty on the first step (first order), else the previous step's.
    Result step_dpm(const at::Tensor& model_output, const at::Tensor& old_pred_original_sample,
                    int64_t timestep, std::optional<int64_t> timestep_back,
                    const at::Tensor& sample);
    /// step_dpm with the previous prediction and timestep kept here; needs consecutive indices.
    at::Tensor step(const at::Tensor& model_output, int step_index,
                    const at::Tensor& sample) override;
    at::Tensor add_noise(const at::Tensor& clean, const at::Tensor& noise,
                         int step_index) const override;

    /// The generator the step noise is drawn from (diffusers' `generator`); the default CPU/CUDA
    /// generator when unset. Noise is drawn on the generator's device, then moved to the sample's.
    void set_generator(at::Generator generator) { generator_ = std::move(generator); }
    const at::Tensor& alphas_cumprod() const { return alphas_cumprod_; }
    const CogVideoXDPMConfig& config() const { return config_; }

private:
    at::Tensor draw_noise(const at::Tensor& like);

    CogVideoXDPMConfig config_;
    at::Tensor alphas_cumprod_;  // float64 for scaled_linear betas, float32 otherwise
    at::Tensor final_alpha_cumprod_;
    std::vector<int64_t> schedule_;
    std::optional<at::Generator> generator_;
    at::Tensor old_pred_;
    int next_index_ = -1;
};

}  // namespace vmeval::sched
