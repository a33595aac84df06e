#pragma once

// diffusers FlowMatchEulerDiscreteScheduler (rectified flow: x_sigma = (1 - sigma) x0 + sigma
// noise, the model predicts the velocity). Used by LTX-Video, LTX-2, HunyuanVideo, SANA-Video and
// some Wan revisions. Deterministic path only (stochastic_sampling is rejected).

#include <optional>
#include <string>

#include "models/torch/schedulers/scheduler.hpp"

namespace vmeval::sched {

struct FlowMatchEulerConfig {
    int64_t num_train_timesteps = 1000;
    double shift = 1.0;
    bool use_dynamic_shifting = false;
    double base_shift = 0.5;
    double max_shift = 1.15;
    int64_t base_image_seq_len = 256;
    int64_t max_image_seq_len = 4096;
    bool invert_sigmas = false;
    std::optional<double> shift_terminal;
    bool use_karras_sigmas = false;
    bool use_exponential_sigmas = false;
    std::string time_shift_type = "exponential";

    static FlowMatchEulerConfig from(const nn::ConfigFile& config);
};

class FlowMatchEulerScheduler : public Scheduler {
public:
    explicit FlowMatchEulerScheduler(FlowMatchEulerConfig config);

    const char* class_name() const override { return "FlowMatchEulerDiscreteScheduler"; }
    int64_t num_train_timesteps() const override { return config_.num_train_timesteps; }
    void set_timesteps(int steps, const at::Device& device,
                       std::optional<double> mu = std::nullopt) override;
    void set_sigmas(const std::vector<double>& sigmas, const at::Device& device,
                    std::optional<double> mu = std::nullopt) override;
    at::Tensor step(const at::Tensor& model_output, int step_index,
                    const at::Tensor& sample) override;
    /// LTXConditionPipeline's per-token step: each token moves from its own sigma
    /// (per_token_timesteps / num_train_timesteps, shape [B, S]) to the next lower sigma of the
    /// schedule; sample and model_output are [B, S, C]. The result stays float32, as upstream.
    at::Tensor step_per_token(const at::Tensor& model_output, const at::Tensor& sample,
                              const at::Tensor& per_token_timesteps) const;
    /// scale_noise: sigma * noise + (1 - sigma) * clean.
    at::Tensor add_noise(const at::Tensor& clean, const at::Tensor& noise,
                         int step_index) const override;

    /// The pipelines' calculate_shift: mu linear in the image token count between the config's
    /// (base_image_seq_len, base_shift) and (max_image_seq_len, max_shift).
    double calculate_shift(int64_t image_seq_len) const;
    const FlowMatchEulerConfig& config() const { return config_; }

private:
    // `sigmas` is float64 for generated grids and float32 for caller sigmas, as numpy has them.
    void finish(at::Tensor sigmas, const at::Device& device, std::optional<double> mu);

    FlowMatchEulerConfig config_;
    double sigma_min_ = 0;  // ends of the train-time (shifted) schedule, from float32 values
    double sigma_max_ = 1;
};

}  // namespace vmeval::sched
