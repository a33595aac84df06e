#include "models/torch/schedulers/ddim.hpp"

#include "vmeval/core/error.hpp"

namespace vmeval::sched {

std::vector<int64_t> ddim_timesteps(const std::string& spacing, int64_t num_train_timesteps,
                                    int steps, int64_t steps_offset) {
    if (steps < 1 || steps > num_train_timesteps)
        throw Error(ErrorCode::Config,
                    "scheduler: " + std::to_string(steps) + " steps is outside 1.." +
                        std::to_string(num_train_timesteps) + " (num_train_timesteps)");
    std::vector<int64_t> out;
    if (spacing == "linspace") {
        auto grid = np_linspace(0, static_cast<double>(num_train_timesteps - 1), steps);
        for (auto it = grid.rbegin(); it != grid.rend(); ++it)
            out.push_back(static_cast<int64_t>(np_round(*it)));
    } else if (spacing == "leading") {
        const int64_t ratio = num_train_timesteps / steps;
        for (int64_t i = steps - 1; i >= 0; --i) out.push_back(i * ratio + steps_offset);
    } else {
        const double ratio = static_cast<double>(num_train_timesteps) / steps;
        for (double t : np_arange(static_cast<double>(num_train_timesteps), 0, -ratio))
            out.push_back(static_cast<int64_t>(np_round(t)) - 1);
    }
    return out;
}

DDIMConfig DDIMConfig::from(const nn::ConfigFile& config) {
    DDIMConfig c;
    c.betas = BetaConfig::from(config, BetaConfig{});
    c.clip_sample = config.get<bool>("clip_sample", c.clip_sample);
    c.set_alpha_to_one = config.get<bool>("set_alpha_to_one", c.set_alpha_to_one);
    c.steps_offset = config.get<int64_t>("steps_offset", c.steps_offset);
    c.prediction_type = config_choice(config, "prediction_type", c.prediction_type,
                                      {"epsilon", "sample", "v_prediction"});
    c.thresholding = config.get<bool>("thresholding", c.thresholding);
    c.dynamic_thresholding_ratio =
        config.get<double>("dynamic_thresholding_ratio", c.dynamic_thresholding_ratio);
    c.clip_sample_range = config.get<double>("clip_sample_range", c.clip_sample_range);
    c.sample_max_value = config.get<double>("sample_max_value", c.sample_max_value);
    c.timestep_spacing = config_choice(config, "timestep_spacing", c.timestep_spacing,
                                       {"leading", "trailing", "linspace"});
    return c;
}

DDIMScheduler::DDIMScheduler(DDIMConfig config) : config_(std::move(config)) {
    auto betas = make_betas(config_.betas);
    if (config_.betas.rescale_betas_zero_snr) betas = rescale_zero_terminal_snr(betas);
    alphas_cumprod_ = at::cumprod(1.0 - betas, 0);
    final_alpha_cumprod_ =
        config_.set_alpha_to_one ? at::scalar_tensor(1.0, at::kFloat) : alphas_cumprod_[0];
}

void DDIMScheduler::set_timesteps(int steps, const at::Device& device, std::optional<double>) {
    schedule_ = ddim_timesteps(config_.timestep_spacing, config_.betas.num_train_timesteps, steps,
                               config_.steps_offset);
    timesteps_ = at::tensor(schedule_, at::kLong).to(device);
}

at::Tensor DDIMScheduler::step(const at::Tensor& model_output, int step_index,
                               const at::Tensor& sample) {
    check_index(step_index);
    const int64_t t = schedule_[step_index];
    // diffusers steps back by the leading-spacing stride whatever the spacing; kept for parity.
    const int64_t prev_t = t - config_.betas.num_train_timesteps / num_steps();
    auto alpha_prod_t = alphas_cumprod_[t];
    auto alpha_prod_prev = prev_t >= 0 ? alphas_cumprod_[prev_t] : final_alpha_cumprod_;
    auto beta_prod_t = 1 - alpha_prod_t;

    at::Tensor pred_original, pred_epsilon;
    const auto& type = config_.prediction_type;
    if (type == "epsilon") {
        pred_original = (sample - beta_prod_t.pow(0.5) * model_output) / alpha_prod_t.pow(0.5);
        pred_epsilon = model_output;
    } else if (type == "sample") {
        pred_original = model_output;
        pred_epsilon = (sample - alpha_prod_t.pow(0.5) * pred_original) / beta_prod_t.pow(0.5);
    } else {
        pred_original = alpha_prod_t.pow(0.5) * sample - beta_prod_t.pow(0.5) * model_output;
        pred_epsilon = alpha_prod_t.pow(0.5) * model_output + beta_prod_t.pow(0.5) * sample;
    }
    if (config_.thresholding)
        pred_original = threshold_sample(pred_original, config_.dynamic_thresholding_ratio,
                                         config_.sample_max_value);
    else if (config_.clip_sample)
        pred_original = pred_original.clamp(-config_.clip_sample_range, config_.clip_sample_range);

    // eta = 0: the variance term only enters as 0 * sqrt(variance), kept so NaNs propagate as
    // upstream.
    auto beta_prod_prev = 1 - alpha_prod_prev;
    auto variance = (beta_prod_prev / beta_prod_t) * (1 - alpha_prod_t / alpha_prod_prev);
    auto std_dev_t = variance.pow(0.5) * 0.0;
    auto direction = (1 - alpha_prod_prev - std_dev_t.pow(2)).pow(0.5) * pred_epsilon;
    return alpha_prod_prev.pow(0.5) * pred_original + direction;
}

at::Tensor DDIMScheduler::add_noise(const at::Tensor& clean, const at::Tensor& noise,
                                    int step_index) const {
    check_index(step_index);
    auto ac = alphas_cumprod_.to(clean.device(), clean.scalar_type());
    const int64_t t = schedule_[step_index];
    return ac[t].pow(0.5) * clean + (1 - ac[t]).pow(0.5) * noise;
}

}  // namespace vmeval::sched
