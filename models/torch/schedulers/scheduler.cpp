#include "models/torch/schedulers/scheduler.hpp"

#include "models/torch/schedulers/cogvideox_dpm.hpp"
#include "models/torch/schedulers/ddim.hpp"
#include "models/torch/schedulers/euler_discrete.hpp"
#include "models/torch/schedulers/flow_match_euler.hpp"
#include "models/torch/schedulers/unipc_multistep.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::sched {

void Scheduler::set_sigmas(const std::vector<double>&, const at::Device&, std::optional<double>) {
    throw Error(ErrorCode::Config,
                std::string(class_name()) +
                    " does not take custom sigmas; only FlowMatchEulerDiscreteScheduler does");
}

at::Tensor Scheduler::scale_model_input(const at::Tensor& sample, int step_index) const {
    check_index(step_index);
    return sample;
}

void Scheduler::check_index(int step_index) const {
    if (!timesteps_.defined())
        throw Error(ErrorCode::Internal,
                    std::string(class_name()) + ": set_timesteps() was not called");
    if (step_index < 0 || step_index >= num_steps())
        throw Error(ErrorCode::Internal, std::string(class_name()) + ": step " +
                                             std::to_string(step_index) + " is outside 0.." +
                                             std::to_string(num_steps() - 1));
}

namespace {

template <class S, class C>
std::unique_ptr<Scheduler> build(const nn::ConfigFile& config) {
    return std::make_unique<S>(C::from(config));
}

struct Entry {
    const char* class_name;
    std::unique_ptr<Scheduler> (*factory)(const nn::ConfigFile&);
};

// One row per diffusers class; CogVideoX's DDIM variant is the same sampler as DDIM but with
// CogVideoX's SNR-shifted alphas, so it is not aliased here.
const Entry kSchedulers[] = {
    {"FlowMatchEulerDiscreteScheduler", build<FlowMatchEulerScheduler, FlowMatchEulerConfig>},
    {"EulerDiscreteScheduler", build<EulerDiscreteScheduler, EulerDiscreteConfig>},
    {"UniPCMultistepScheduler", build<UniPCMultistepScheduler, UniPCConfig>},
    {"DDIMScheduler", build<DDIMScheduler, DDIMConfig>},
    {"CogVideoXDPMScheduler", build<CogVideoXDPMScheduler, CogVideoXDPMConfig>},
};

}  // namespace

std::vector<std::string> scheduler_classes() {
    std::vector<std::string> names;
    for (const auto& e : kSchedulers) names.emplace_back(e.class_name);
    return names;
}

std::unique_ptr<Scheduler> make_scheduler(const nn::ConfigFile& scheduler_config) {
    const auto name = scheduler_config.get<std::string>("_class_name");
    for (const auto& e : kSchedulers)
        if (name == e.class_name) return e.factory(scheduler_config);
    std::string known;
    for (const auto& e : kSchedulers)
        known += (known.empty() ? "" : ", ") + std::string(e.class_name);
    throw Error(ErrorCode::Config,
                scheduler_config.path().string() + ": scheduler class '" + name +
                    "' is not supported (supported: " + known +
                    "); pick a checkpoint revision whose scheduler is one of these");
}

}  // namespace vmeval::sched
