#include "models/torch/schedulers/cogvideox_dpm.hpp"

#include "models/torch/schedulers/ddim.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::sched {

CogVideoXDPMConfig CogVideoXDPMConfig::from(const nn::ConfigFile& config) {
    CogVideoXDPMConfig c;
    c.betas = BetaConfig::from(config, c.betas);
    c.set_alpha_to_one = config.get<bool>("set_alpha_to_one", c.set_alpha_to_one);
    c.steps_offset = config.get<int64_t>("steps_offset", c.steps_offset);
    c.prediction_type = config_choice(config, "prediction_type", c.prediction_type,
                                      {"epsilon", "sample", "v_prediction"});
    c.timestep_spacing = config_choice(config, "timestep_spacing", c.timestep_spacing,
                                       {"leading", "trailing", "linspace"});
    c.snr_shift_scale = config.get<double>("snr_shift_scale", c.snr_shift_scale);
    return c;
}

CogVideoXDPMScheduler::CogVideoXDPMScheduler(CogVideoXDPMConfig config)
    : config_(std::move(config)) {
    auto betas = make_betas(config_.betas, at::kDouble);
    auto ac = at::cumprod(1.0 - betas, 0);
    // CogVideoX's SNR shift: alpha / (s + (1 - s) alpha) divides the SNR by s.
    const double s = config_.snr_shift_scale;
    ac = ac / ((1 - s) * ac + s);
    if (config_.betas.rescale_betas_zero_snr) {
        // Zero terminal SNR applied to alphas_cumprod directly (not to betas as in DDIM).
        auto root = ac.sqrt();
        auto first = root[0].clone();
        auto last = root[-1].clone();
        root -= last;
        root *= first / (first - last);
        ac = root.pow(2);
    }
    alphas_cumprod_ = ac;
    final_alpha_cumprod_ =
        config_.set_alpha_to_one ? at::scalar_tensor(1.0, at::kFloat) : alphas_cumprod_[0];
}

void CogVideoXDPMScheduler::set_timesteps(int steps, const at::Device& device,
                                          std::optional<double>) {
    schedule_ = ddim_timesteps(config_.timestep_spacing, config_.betas.num_train_timesteps, steps,
                               config_.steps_offset);
    timesteps_ = at::tensor(schedule_, at::kLong).to(device);
    old_pred_ = at::Tensor();
    next_index_ = -1;
}

at::Tensor CogVideoXDPMScheduler::draw_noise(const at::Tensor& like) {
    if (generator_) {
        auto options = like.options().device(generator_->device());
        return at::randn(like.sizes(), *generator_, options).to(like.device());
    }
    return at::randn(like.sizes(), like.options());
}

CogVideoXDPMScheduler::Result CogVideoXDPMScheduler::step_dpm(
    const at::Tensor& model_output, const at::Tensor& old_pred_original_sample, int64_t timestep,
    std::optional<int64_t> timestep_back, const at::Tensor& sample) {
    if (schedule_.empty())
        throw Error(ErrorCode::Internal, "CogVideoXDPMScheduler: set_timesteps() was not called");
    const int64_t prev_t = timestep - config_.betas.num_train_timesteps / num_steps();
    auto a_t = alphas_cumprod_[timestep];
    auto a_prev = prev_t >= 0 ? alphas_cumprod_[prev_t] : final_alpha_cumprod_;
    auto beta_t = 1 - a_t;

    at::Tensor pred;
    const auto& type = config_.prediction_type;
    if (type == "epsilon")
        pred = (sample - beta_t.pow(0.5) * model_output) / a_t.pow(0.5);
    else if (type == "sample")
        pred = model_output;
    else
        pred = a_t.pow(0.5) * sample - beta_t.pow(0.5) * model_output;

    // Half log-SNR at t and at the step's target; h is the step length in it.
    auto lamb = (a_t / (1 - a_t)).pow(0.5).log();
    auto lamb_next = (a_prev / (1 - a_prev)).pow(0.5).log();
    auto h = lamb_next - lamb;
    auto mult1 = ((1 - a_prev) / (1 - a_t)).pow(0.5) * (-h).exp();
    auto mult2 = (h * -2).expm1() * a_prev.pow(0.5);
    auto mult_noise = (1 - a_prev).pow(0.5) * (1 - (h * -2).exp()).pow(0.5);

    auto noise = draw_noise(sample);
    auto prev = mult1 * sample - mult2 * pred + mult_noise * noise;
    if (!old_pred_original_sample.defined() || prev_t < 0) return {prev, pred};
    if (!timestep_back)
        throw Error(ErrorCode::Internal,
                    "CogVideoXDPMScheduler: a second-order step needs the previous timestep");

    auto a_back = alphas_cumprod_[*timestep_back];
    auto lamb_back = (a_back / (1 - a_back)).pow(0.5).log();
    auto r = (lamb - lamb_back) / h;
    auto half_inv_r = (r * 2).reciprocal();
    auto mult3 = 1 + half_inv_r;
    auto denoised = mult3 * pred - half_inv_r * old_pred_original_sample;
    auto noise2 = draw_noise(sample);
    return {mult1 * sample - mult2 * denoised + mult_noise * noise2, pred};
}

at::Tensor CogVideoXDPMScheduler::step(const at::Tensor& model_output, int step_index,
                                       const at::Tensor& sample) {
    check_index(step_index);
    if (next_index_ != -1 && step_index != next_index_)
        throw Error(ErrorCode::Internal, "CogVideoXDPMScheduler: step " +
                                             std::to_string(step_index) + " after step " +
                                             std::to_string(next_index_ - 1) +
                                             "; the multistep history needs consecutive steps");
    std::optional<int64_t> back;
    if (step_index > 0) back = schedule_[step_index - 1];
    auto result = step_dpm(model_output, next_index_ == -1 ? at::Tensor() : old_pred_,
                           schedule_[step_index], back, sample);
    old_pred_ = result.pred_original_sample;
    next_index_ = step_index + 1;
    return result.prev_sample;
}

at::Tensor CogVideoXDPMScheduler::add_noise(const at::Tensor& clean, const at::Tensor& noise,
                                            int step_index) const {
    check_index(step_index);
    auto ac = alphas_cumprod_.to(clean.device(), clean.scalar_type());
    const int64_t t = schedule_[step_index];
    return ac[t].pow(0.5) * clean + (1 - ac[t]).pow(0.5) * noise;
}

}  // namespace vmeval::sched
