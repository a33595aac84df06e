#pragma once

// The denoising-loop interface every sampler of the open models implements, mirroring the diffusers
// scheduler classes named in `scheduler/scheduler_config.json`. Steps are addressed by index into
// timesteps(); the pipeline calls, for i = 0 .. num_steps()-1:
//     input  = scale_model_input(latents, i);
//     output = model(input, timesteps()[i]);
//     latents = step(output, i, latents);
// Multistep samplers (UniPC, CogVideoX DPM) keep history between calls and require consecutive
// indices after set_timesteps(); the first index may be above 0 (img2img-style starts).

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/torch/runtime/config.hpp"

namespace vmeval::sched {

class Scheduler {
public:
    virtual ~Scheduler() = default;

    /// The diffusers class this mirrors, e.g. "UniPCMultistepScheduler".
    virtual const char* class_name() const = 0;
    /// Builds the schedule for `steps` steps and clears any multistep history. `mu` is the
    /// resolution-dependent shift of configs with use_dynamic_shifting (required there).
    virtual void set_timesteps(int steps, const at::Device& device,
                               std::optional<double> mu = std::nullopt) = 0;
    /// A caller-chosen sigma schedule (one sigma per step, as diffusers'
    /// `set_timesteps(sigmas=...)`); throws Error(Config) for schedulers that do not take one.
    virtual void set_sigmas(const std::vector<double>& sigmas, const at::Device& device,
                            std::optional<double> mu = std::nullopt);

    /// One timestep per step, in diffusers' dtype (float32 for the Euler/flow samplers, int64 for
    /// the DDPM-family ones); what the model is conditioned on.
    const at::Tensor& timesteps() const { return timesteps_; }
    /// num_steps()+1 noise levels (float32, CPU) for the sigma-parameterised samplers; undefined
    /// for DDIM and CogVideoX DPM, which work on alphas_cumprod.
    const at::Tensor& sigmas() const { return sigmas_; }
    int num_steps() const {
        return timesteps_.defined() ? static_cast<int>(timesteps_.size(0)) : 0;
    }
    /// The training schedule's length (1000 for every model here); Wan 2.2 switches experts at
    /// boundary_ratio * num_train_timesteps().
    virtual int64_t num_train_timesteps() const = 0;

    /// What the initial Gaussian noise is multiplied by.
    virtual double init_noise_sigma() const { return 1.0; }
    /// The model input for step `step_index` (identity except for Euler's 1/sqrt(sigma^2+1)).
    virtual at::Tensor scale_model_input(const at::Tensor& sample, int step_index) const;
    /// The latents after step `step_index`, given the model's output on that step's input.
    virtual at::Tensor step(const at::Tensor& model_output, int step_index,
                            const at::Tensor& sample) = 0;
    /// `clean` noised to the level of step `step_index` (diffusers add_noise; scale_noise for
    /// flow).
    virtual at::Tensor add_noise(const at::Tensor& clean, const at::Tensor& noise,
                                 int step_index) const = 0;

protected:
    /// Throws Error(Internal) when set_timesteps() has not run or `step_index` is out of range.
    void check_index(int step_index) const;

    at::Tensor timesteps_;
    at::Tensor sigmas_;
};

/// The scheduler `scheduler_config` names in "_class_name", configured from every field that
/// class reads. Throws Error(Config) naming the file for an unknown class or an unsupported option.
std::unique_ptr<Scheduler> make_scheduler(const nn::ConfigFile& scheduler_config);
/// The class names make_scheduler() knows.
std::vector<std::string> scheduler_classes();

}  // namespace vmeval::sched
