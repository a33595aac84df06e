// Every scheduler replayed against diffusers 0.42.1 (tests/reference/goldens/schedulers.py): the
// same scheduler_config.json goes through make_scheduler(), then the schedule, add_noise, every
// scaled model input and every step's latents are compared along the whole trajectory, with the
// same fake model on both sides.
#include "models/torch/schedulers/scheduler.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>

#include "models/torch/runtime/config.hpp"
#include "models/torch/schedulers/cogvideox_dpm.hpp"
#include "models/torch/schedulers/flow_match_euler.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::sched {
namespace {

using testing::compare;
using testing::golden_dir;
using testing::load_json;
using testing::load_tensors;

// Float32 schedule values are reproduced to the last bit or two; the trajectories go through up to
// 25 float32 steps whose scalars (log, exp, expm1, linalg.solve) may round one ulp differently.
constexpr double kScheduleRtol = 1e-6;
constexpr double kStepAtol = 1e-6;
constexpr double kStepRtol = 1e-6;

// The fake denoiser of the generator: 0.3 * input + (0.1 * cos(t)) * pattern.
at::Tensor fake_model(const at::Tensor& input, double t, const at::Tensor& pattern) {
    return input * 0.3 + pattern * (0.1 * std::cos(t));
}

struct Worst {
    double abs = 0, rel = 0;
    void add(const testing::Closeness& c) {
        abs = std::max(abs, c.max_abs);
        rel = std::max(rel, c.max_rel);
    }
};

void expect_near(const at::Tensor& got, const at::Tensor& want, double atol, double rtol,
                 const std::string& what, Worst& worst) {
    worst.add(vmeval::testing::expect_close(what, got, want, atol, rtol));
}

// Runs the trajectory from the stored noise, comparing every scaled input and every step.
void replay_steps(Scheduler& scheduler, const nlohmann::json& meta,
                  const std::map<std::string, at::Tensor>& golden, Worst& trajectory) {
    const auto& noise = golden.at("noise");
    const auto& pattern = golden.at("pattern");
    if (meta.contains("generator")) {
        auto* cog = dynamic_cast<CogVideoXDPMScheduler*>(&scheduler);
        ASSERT_NE(cog, nullptr);
        cog->set_generator(
            at::make_generator<at::CPUGeneratorImpl>(meta.at("generator").get<uint64_t>()));
    }
    auto latents = noise * scheduler.init_noise_sigma();
    expect_near(latents, golden.at("latents_init"), kStepAtol, kStepRtol, "initial latents",
                trajectory);
    for (int i = 0; i < scheduler.num_steps(); ++i) {
        const auto idx = std::to_string(i);
        auto input = scheduler.scale_model_input(latents, i);
        if (golden.count("input_" + idx))
            expect_near(input, golden.at("input_" + idx), kStepAtol, kStepRtol, "input " + idx,
                        trajectory);
        else
            EXPECT_TRUE(at::equal(input, latents))
                << "step " << i << ": this scheduler does not scale inputs";
        const double t = scheduler.timesteps()[i].item<double>();
        auto output = fake_model(input, t, pattern);
        if (meta.value("bf16", false)) output = output.to(at::kBFloat16);
        latents = scheduler.step(output, i, latents);
        ASSERT_EQ(latents.scalar_type(), golden.at("sample_" + idx).scalar_type())
            << "step " << i << " dtype";
        expect_near(latents, golden.at("sample_" + idx), kStepAtol, kStepRtol, "sample " + idx,
                    trajectory);
    }
}

void replay(const nlohmann::json& meta) {
    const auto name = meta.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const auto dir = golden_dir("schedulers") / name;
    auto scheduler = make_scheduler(nn::ConfigFile::load(dir / "scheduler_config.json"));
    auto golden = load_tensors(dir / "trajectory.safetensors");

    std::optional<double> mu;
    if (meta.contains("mu")) mu = meta.at("mu").get<double>();
    auto set_schedule = [&] {
        if (meta.contains("sigmas"))
            scheduler->set_sigmas(meta.at("sigmas").get<std::vector<double>>(), at::kCPU, mu);
        else
            scheduler->set_timesteps(meta.at("set_steps").get<int>(), at::kCPU, mu);
    };
    set_schedule();

    Worst schedule, trajectory;
    const auto& want_t = golden.at("timesteps");
    ASSERT_EQ(scheduler->timesteps().scalar_type(), want_t.scalar_type()) << "timesteps dtype";
    ASSERT_EQ(scheduler->num_steps(), meta.at("steps").get<int>());
    if (want_t.is_floating_point())
        expect_near(scheduler->timesteps(), want_t, 0, kScheduleRtol, "timesteps", schedule);
    else
        EXPECT_TRUE(at::equal(scheduler->timesteps(), want_t)) << scheduler->timesteps() << "\nvs\n"
                                                               << want_t;
    if (golden.count("sigmas")) {
        ASSERT_TRUE(scheduler->sigmas().defined());
        EXPECT_EQ(scheduler->sigmas().scalar_type(), at::kFloat);
        expect_near(scheduler->sigmas(), golden.at("sigmas"), 0, kScheduleRtol, "sigmas", schedule);
    }
    const double init_sigma = meta.at("init_noise_sigma").get<double>();
    EXPECT_NEAR(scheduler->init_noise_sigma(), init_sigma, std::abs(init_sigma) * kScheduleRtol);

    const int mid = meta.at("mid").get<int>();
    expect_near(scheduler->add_noise(golden.at("clean"), golden.at("noise"), mid),
                golden.at("noised"), kStepAtol, kStepRtol, "add_noise", trajectory);

    // The second run checks that set_timesteps() clears the multistep history.
    for (int run = 0; run < 2; ++run) {
        SCOPED_TRACE(run == 0 ? "first run" : "second run after set_timesteps");
        if (run == 1) set_schedule();
        replay_steps(*scheduler, meta, golden, trajectory);
    }
    std::cout << "[ scheduler ] " << name << ": schedule max rel " << schedule.rel
              << ", trajectory max abs " << trajectory.abs << " max rel " << trajectory.rel << "\n";
}

void replay_family(const std::string& prefix) {
    auto cases = load_json(golden_dir("schedulers") / "cases.json");
    int seen = 0;
    for (const auto& meta : cases) {
        if (meta.at("name").get<std::string>().rfind(prefix, 0) != 0) continue;
        ++seen;
        replay(meta);
    }
    EXPECT_GT(seen, 0) << "no golden case starts with " << prefix;
}

TEST(Schedulers, FlowMatchEulerMatchesDiffusers) { replay_family("flow_"); }
TEST(Schedulers, EulerDiscreteMatchesDiffusers) { replay_family("euler_"); }
TEST(Schedulers, UniPCMultistepMatchesDiffusers) { replay_family("unipc_"); }
TEST(Schedulers, DDIMMatchesDiffusers) { replay_family("ddim_"); }
TEST(Schedulers, CogVideoXDPMMatchesDiffusers) { replay_family("cogvideox_"); }

nn::ConfigFile config_of(nlohmann::json json) {
    return nn::ConfigFile(std::move(json), "scheduler/scheduler_config.json");
}

TEST(Schedulers, UnknownClassNamesTheFile) {
    try {
        make_scheduler(config_of({{"_class_name", "LCMScheduler"}}));
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config);
        EXPECT_NE(std::string(e.what()).find("scheduler/scheduler_config.json"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("LCMScheduler"), std::string::npos) << e.what();
    }
}

TEST(Schedulers, UnsupportedOptionsAreConfigErrors) {
    auto expect_config_error = [](nlohmann::json json) {
        SCOPED_TRACE(json.dump());
        try {
            make_scheduler(config_of(std::move(json)));
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::Config);
        }
    };
    expect_config_error(
        {{"_class_name", "FlowMatchEulerDiscreteScheduler"}, {"stochastic_sampling", true}});
    expect_config_error(
        {{"_class_name", "EulerDiscreteScheduler"}, {"timestep_spacing", "uniform"}});
    expect_config_error({{"_class_name", "UniPCMultistepScheduler"}, {"solver_p", {{"a", 1}}}});
    expect_config_error({{"_class_name", "DDIMScheduler"}, {"beta_schedule", "sigmoid"}});
    expect_config_error({{"_class_name", "DDIMScheduler"}, {"trained_betas", {0.1, 0.2}}});
}

TEST(Schedulers, DynamicShiftingNeedsMu) {
    auto s = make_scheduler(config_of(
        {{"_class_name", "FlowMatchEulerDiscreteScheduler"}, {"use_dynamic_shifting", true}}));
    EXPECT_THROW(s->set_timesteps(10, at::kCPU), Error);
    EXPECT_NO_THROW(s->set_timesteps(10, at::kCPU, 1.0));
}

TEST(Schedulers, CustomSigmasOnlyForFlowMatch) {
    auto s = make_scheduler(config_of({{"_class_name", "EulerDiscreteScheduler"}}));
    EXPECT_THROW(s->set_sigmas({1.0, 0.5}, at::kCPU), Error);
}

TEST(Schedulers, MultistepNeedsConsecutiveSteps) {
    auto s = make_scheduler(config_of({{"_class_name", "UniPCMultistepScheduler"}}));
    s->set_timesteps(5, at::kCPU);
    auto x = at::ones({1, 2, 2, 2});
    x = s->step(x * 0.1, 0, x);
    EXPECT_THROW(s->step(x * 0.1, 2, x), Error);
    EXPECT_THROW(s->step(x * 0.1, 7, x), Error);
}

TEST(Schedulers, CalculateShiftMatchesLTXPipeline) {
    auto golden = load_tensors(golden_dir("schedulers") / "guidance.safetensors");
    auto s = make_scheduler(nn::ConfigFile::load(golden_dir("schedulers") / "flow_ltx_dynamic" /
                                                 "scheduler_config.json"));
    auto* flow = dynamic_cast<FlowMatchEulerScheduler*>(s.get());
    ASSERT_NE(flow, nullptr);
    EXPECT_DOUBLE_EQ(flow->calculate_shift(2000), golden.at("ltx_mu_2000")[0].item<double>());
}

TEST(Schedulers, FlowMatchPerTokenMatchesLTXCondition) {
    // The LTXConditionPipeline loop around the scheduler, as the generator runs it.
    const auto dir = golden_dir("schedulers");
    auto golden = load_tensors(dir / "per_token.safetensors");
    auto s =
        make_scheduler(nn::ConfigFile::load(dir / "flow_ltx_dynamic" / "scheduler_config.json"));
    auto* flow = dynamic_cast<FlowMatchEulerScheduler*>(s.get());
    ASSERT_NE(flow, nullptr);
    flow->set_timesteps(6, at::kCPU, 1.2);
    EXPECT_TENSOR_NEAR(flow->timesteps(), golden.at("timesteps"), 0.0, kScheduleRtol);
    const auto& mask = golden.at("mask");
    const auto& pattern = golden.at("pattern");
    auto latents = golden.at("latents_init");
    Worst worst;
    for (int i = 0; i < flow->num_steps(); ++i) {
        const auto idx = std::to_string(i);
        auto t = flow->timesteps()[i];
        auto timestep = at::minimum(t.expand({latents.size(0)}).unsqueeze(-1).to(at::kFloat),
                                    (1 - mask) * 1000.0);
        expect_near(timestep, golden.at("timestep_" + idx), 0, 0, "per-token timesteps " + idx,
                    worst);
        auto output = fake_model(latents, t.item<double>(), pattern);
        auto denoised = flow->step_per_token(-output, latents, timestep);
        auto keep = ((t / 1000 - 1e-6) < (1.0 - mask)).unsqueeze(-1);
        latents = at::where(keep, denoised, latents);
        expect_near(latents, golden.at("sample_" + idx), kStepAtol, kStepRtol, "sample " + idx,
                    worst);
    }
    std::cout << "[ scheduler ] per-token LTX condition: max abs " << worst.abs << "\n";
}

TEST(Schedulers, CogVideoXStepDPMAsThePipelineCallsIt) {
    // The upstream call shape: the pipeline threads the previous x0 prediction and timestep.
    const auto dir = golden_dir("schedulers") / "cogvideox_5b_i2v_10";
    auto golden = load_tensors(dir / "trajectory.safetensors");
    CogVideoXDPMScheduler cog(
        CogVideoXDPMConfig::from(nn::ConfigFile::load(dir / "scheduler_config.json")));
    cog.set_timesteps(10, at::kCPU);
    cog.set_generator(at::make_generator<at::CPUGeneratorImpl>(7));
    auto latents = golden.at("latents_init");
    at::Tensor old_pred;
    Worst worst;
    for (int i = 0; i < cog.num_steps(); ++i) {
        const auto idx = std::to_string(i);
        const int64_t t = cog.timesteps()[i].item<int64_t>();
        std::optional<int64_t> back;
        if (i > 0) back = cog.timesteps()[i - 1].item<int64_t>();
        auto output = fake_model(latents, static_cast<double>(t), golden.at("pattern"));
        auto result = cog.step_dpm(output, old_pred, t, back, latents);
        latents = result.prev_sample;
        old_pred = result.pred_original_sample;
        expect_near(old_pred, golden.at("pred_original_" + idx), kStepAtol, kStepRtol,
                    "pred_original " + idx, worst);
        expect_near(latents, golden.at("sample_" + idx), kStepAtol, kStepRtol, "sample " + idx,
                    worst);
    }
}

TEST(Schedulers, TrainTimestepsFromConfig) {
    auto s = make_scheduler(
        config_of({{"_class_name", "UniPCMultistepScheduler"}, {"num_train_timesteps", 500}}));
    EXPECT_EQ(s->num_train_timesteps(), 500);
    s->set_timesteps(4, at::kCPU);
    EXPECT_LT(s->timesteps()[0].item<int64_t>(), 500);
}

}  // namespace
}  // namespace vmeval::sched
