// Every provider's response parsers over arbitrary bodies. The first byte picks the HTTP status
// (the parsers quote it in messages); the rest is the body. Only vmeval::Error may come out.

#include "fuzz_support.hpp"
#include "models/api/response_parsers.hpp"
#include "vmeval/core/error.hpp"

namespace {

template <typename F>
void only_errors(F&& f) {
    try {
        f();
    } catch (const vmeval::Error&) {
    }
}

void check_status(const vmeval::api::JobStatus& st) {
    using State = vmeval::api::JobStatus::State;
    if (st.state == State::Succeeded && st.error_message.size() > 0) std::abort();
    if (st.state == State::Failed && st.error_message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmeval;
    using namespace vmeval::api;
    if (size == 0) return 0;
    http::Response res;
    res.status = data[0] < 128 ? 200 : 100 + data[0] * 2;  // mostly 200, sometimes an error
    res.body = std::string(fuzz::as_text(data + 1, size - 1));
    res.bytes = res.body.size();
    const std::string model = "fuzz-model";

    only_errors([&] { luma_message(res.body); });
    only_errors([&] { luma_generation_id(model, res); });
    only_errors([&] { check_status(luma_status(model, res)); });

    only_errors([&] { veo_error(res.body); });
    only_errors([&] { veo_operation_name(model, res); });
    only_errors([&] { check_status(veo_status(model, res)); });

    only_errors([&] {
        KlingEnvelope env = kling_envelope(res.body);
        kling_task_id(env.data);
        check_status(kling_status(model, env.data, res.body));
    });

    only_errors([&] { openai_message(res.body); });
    only_errors([&] { openai_code(res.body); });
    only_errors([&] { sora_video_id(model, res); });
    only_errors([&] { check_status(sora_status(model, res)); });

    only_errors([&] { runway_message(res.body); });
    only_errors([&] { runway_task_id(model, res); });
    only_errors([&] { check_status(runway_status(model, res)); });
    return 0;
}
