#include "models/torch/schedulers/flow_match_euler.hpp"

#include <cmath>

#include "models/torch/schedulers/schedule_math.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::sched {

FlowMatchEulerConfig FlowMatchEulerConfig::from(const nn::ConfigFile& config) {
    FlowMatchEulerConfig c;
    c.num_train_timesteps = config.get<int64_t>("num_train_timesteps", c.num_train_timesteps);
    c.shift = config.get<double>("shift", c.shift);
    c.use_dynamic_shifting = config.get<bool>("use_dynamic_shifting", c.use_dynamic_shifting);
    c.base_shift = config.get<double>("base_shift", c.base_shift);
    c.max_shift = config.get<double>("max_shift", c.max_shift);
    c.base_image_seq_len = config.get<int64_t>("base_image_seq_len", c.base_image_seq_len);
    c.max_image_seq_len = config.get<int64_t>("max_image_seq_len", c.max_image_seq_len);
    c.invert_sigmas = config.get<bool>("invert_sigmas", c.invert_sigmas);
    c.shift_terminal = config_optional(config, "shift_terminal");
    c.use_karras_sigmas = config.get<bool>("use_karras_sigmas", c.use_karras_sigmas);
    c.use_exponential_sigmas = config.get<bool>("use_exponential_sigmas", c.use_exponential_sigmas);
    c.time_shift_type =
        config_choice(config, "time_shift_type", c.time_shift_type, {"exponential", "linear"});
    reject_flag(config, "use_beta_sigmas", "needs scipy's beta quantiles");
    reject_flag(config, "stochastic_sampling", "re-noises every step");
    if (c.use_karras_sigmas && c.use_exponential_sigmas)
        throw Error(
            ErrorCode::Config,
            config.path().string() +
                ": only one of 'use_karras_sigmas' and 'use_exponential_sigmas' may be true");
    return c;
}

FlowMatchEulerScheduler::FlowMatchEulerScheduler(FlowMatchEulerConfig config)
    : config_(std::move(config)) {
    // The train-time grid is float32 in diffusers; its ends bound every inference grid.
    const auto n = config_.num_train_timesteps;
    auto sigmas = to_tensor(np_linspace(1, static_cast<double>(n), n), at::kFloat).flip(0) / n;
    if (!config_.use_dynamic_shifting)
        sigmas = sigmas * config_.shift / (sigmas * (config_.shift - 1) + 1);
    sigma_max_ = sigmas[0].item<double>();
    sigma_min_ = sigmas[-1].item<double>();
}

double FlowMatchEulerScheduler::calculate_shift(int64_t image_seq_len) const {
    const double m = (config_.max_shift - config_.base_shift) /
                     static_cast<double>(config_.max_image_seq_len - config_.base_image_seq_len);
    const double b = config_.base_shift - m * static_cast<double>(config_.base_image_seq_len);
    return static_cast<double>(image_seq_len) * m + b;
}

void FlowMatchEulerScheduler::set_timesteps(int steps, const at::Device& device,
                                            std::optional<double> mu) {
    if (steps < 1)
        throw Error(ErrorCode::Config, "FlowMatchEulerDiscreteScheduler: steps must be at least 1");
    const double n = static_cast<double>(config_.num_train_timesteps);
    auto grid = to_tensor(np_linspace(sigma_max_ * n, sigma_min_ * n, steps), at::kDouble);
    finish(grid / n, device, mu);
}

void FlowMatchEulerScheduler::set_sigmas(const std::vector<double>& sigmas,
                                         const at::Device& device, std::optional<double> mu) {
    if (sigmas.empty())
        throw Error(ErrorCode::Config, "FlowMatchEulerDiscreteScheduler: custom sigmas are empty");
    finish(to_tensor(sigmas, at::kFloat), device, mu);
}

void FlowMatchEulerScheduler::finish(at::Tensor sigmas, const at::Device& device,
                                     std::optional<double> mu) {
    if (config_.use_dynamic_shifting && !mu)
        throw Error(ErrorCode::Config,
                    "FlowMatchEulerDiscreteScheduler: the config sets use_dynamic_shifting, so the "
                    "pipeline must "
                    "pass mu (calculate_shift of the token count)");
    sigmas = shift_flow_sigmas(sigmas, config_.use_dynamic_shifting ? mu : std::nullopt,
                               config_.time_shift_type, config_.shift);
    if (config_.shift_terminal && *config_.shift_terminal != 0.0)
        sigmas = stretch_to_terminal(sigmas, *config_.shift_terminal);
    const auto steps = sigmas.size(0);
    if (config_.use_karras_sigmas || config_.use_exponential_sigmas) {
        const double lo = sigmas[-1].item<double>();
        const double hi = sigmas[0].item<double>();
        sigmas = to_tensor(config_.use_karras_sigmas ? karras_sigmas(lo, hi, steps)
                                                     : exponential_sigmas(lo, hi, steps),
                           at::kDouble);
    }
    sigmas = sigmas.to(at::kFloat);
    const auto n = config_.num_train_timesteps;
    auto timesteps = sigmas * n;
    if (config_.invert_sigmas) {
        sigmas = 1.0 - sigmas;
        timesteps = sigmas * n;
        sigmas = at::cat({sigmas, at::ones({1}, sigmas.options())});
    } else {
        sigmas = at::cat({sigmas, at::zeros({1}, sigmas.options())});
    }
    timesteps_ = timesteps.to(device);
    sigmas_ = sigmas;
}

at::Tensor FlowMatchEulerScheduler::step(const at::Tensor& model_output, int step_index,
                                         const at::Tensor& sample) {
    check_index(step_index);
    auto dt = sigmas_[step_index + 1] - sigmas_[step_index];
    auto prev = sample.to(at::kFloat) + dt * model_output;
    return prev.to(model_output.scalar_type());
}

at::Tensor FlowMatchEulerScheduler::step_per_token(const at::Tensor& model_output,
                                                   const at::Tensor& sample,
                                                   const at::Tensor& per_token_timesteps) const {
    if (!sigmas_.defined())
        throw Error(ErrorCode::Internal,
                    "FlowMatchEulerDiscreteScheduler: set_timesteps() was not called");
    auto per_token_sigmas = per_token_timesteps / config_.num_train_timesteps;
    auto sigmas = sigmas_.to(per_token_sigmas.device()).unsqueeze(1).unsqueeze(2);
    // The next sigma of a token is the largest schedule sigma strictly below its own.
    auto lower = sigmas < per_token_sigmas.unsqueeze(0) - 1e-6;
    auto next = std::get<0>((lower * sigmas).max(0));
    auto dt = per_token_sigmas.unsqueeze(-1) - next.unsqueeze(-1);
    return sample.to(at::kFloat) + dt * model_output;
}

at::Tensor FlowMatchEulerScheduler::add_noise(const at::Tensor& clean, const at::Tensor& noise,
                                              int step_index) const {
    check_index(step_index);
    auto sigma = sigmas_.to(clean.scalar_type())[step_index];
    return sigma * noise + (1.0 - sigma) * clean;
}

}  // namespace vmeval::sched
