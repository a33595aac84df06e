// The providers' answer parsers on their own, with the odd answers the fuzzer produces: each one
// must end in vmeval::Error or a JobStatus, never in a JSON exception or undefined behaviour.

#include "models/api/response_parsers.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "vmeval/core/error.hpp"

namespace {

using namespace vmeval::api;
using vmeval::Error;
using vmeval::ErrorCode;
using State = JobStatus::State;

vmeval::http::Response answer(const std::string& body, long status = 200) {
    vmeval::http::Response r;
    r.status = status;
    r.body = body;
    r.bytes = body.size();
    return r;
}

ErrorCode error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    ADD_FAILURE() << "no Error";
    return ErrorCode::Internal;
}

TEST(ResponseParsers, LumaReadsStatesAndOddMessages) {
    JobStatus st =
        luma_status("m", answer(R"({"state":"completed","assets":{"video":"https://x/v.mp4"}})"));
    EXPECT_EQ(st.state, State::Succeeded);
    EXPECT_EQ(st.video_url, "https://x/v.mp4");
    st = luma_status("m", answer(R"({"state":"failed","failure_reason":"nsfw content"})"));
    EXPECT_EQ(st.error_code, ErrorCode::ContentFiltered);
    EXPECT_EQ(error_of([] { luma_status("m", answer("[]")); }), ErrorCode::Http);
    EXPECT_EQ(error_of([] { luma_generation_id("m", answer(R"({"id":""})")); }), ErrorCode::Http);
    EXPECT_EQ(luma_message(R"({"detail":[{"loc":["body",2],"msg":"bad"}]})"), "body.2: bad");
    // A non-string "msg" threw nlohmann::type_error out of the error path.
    EXPECT_EQ(luma_message(R"({"detail":[{"msg":5}]})"), "5");
    EXPECT_EQ(luma_message(R"({"detail":[{"loc":"x","msg":null}]})"), "null");
}

TEST(ResponseParsers, VeoSurvivesWrongTypes) {
    JobStatus st = veo_status("m", answer(R"({"done":true,"response":{"generateVideoResponse":
        {"generatedSamples":[{"video":{"uri":"https://g/f"}}]}}})"));
    EXPECT_EQ(st.state, State::Succeeded);
    // A float code out of int's range converted with undefined behaviour.
    st = veo_status("m", answer(R"({"done":true,"error":{"code":1e300,"message":"boom"}})"));
    EXPECT_EQ(st.state, State::Failed);
    EXPECT_NE(st.error_message.find("boom (code 0)"), std::string::npos);
    st = veo_status("m", answer(R"({"done":true,"response":{"generateVideoResponse":
        {"raiMediaFilteredCount":-1e300}}})"));
    EXPECT_EQ(st.state, State::Failed);
    EXPECT_EQ(error_of([] { veo_status("m", answer(R"({"done":"yes"})")); }), ErrorCode::Http);
    EXPECT_EQ(error_of([] { veo_status("m", answer("[1]")); }), ErrorCode::Http);
    // A non-object create answer, or a non-string name, threw nlohmann::type_error.
    EXPECT_EQ(error_of([] { veo_operation_name("m", answer("[1]")); }), ErrorCode::Http);
    EXPECT_EQ(error_of([] { veo_operation_name("m", answer(R"({"name":7})")); }), ErrorCode::Http);
    VeoError e = veo_error(
        R"({"error":{"message":3,"details":[{"reason":4},{"reason":"API_KEY_INVALID"}]}})");
    EXPECT_TRUE(e.bad_key);
    EXPECT_EQ(e.detail, "");
}

TEST(ResponseParsers, KlingEnvelopeAndTask) {
    KlingEnvelope env =
        kling_envelope(R"({"code":0,"data":{"task_id":"t1","task_status":"processing"}})");
    ASSERT_TRUE(env.has_code);
    EXPECT_EQ(kling_task_id(env.data), "t1");
    EXPECT_TRUE(kling_status("m", env.data, "").started);
    EXPECT_FALSE(kling_envelope(R"({"code":"0"})").has_code);
    // Non-string message and task_id threw nlohmann::type_error.
    EXPECT_EQ(kling_envelope(R"({"code":1200,"message":[1]})").detail, "code 1200: no message");
    EXPECT_EQ(kling_task_id(nlohmann::json::parse(R"({"task_id":12})")), "");
    EXPECT_EQ(kling_task_id(nlohmann::json::parse(R"({"task_id":"a/b"})")), "");
    EXPECT_EQ(error_of([] { kling_status("m", nullptr, ""); }), ErrorCode::Http);
    EXPECT_EQ(
        error_of([] { kling_status("m", nlohmann::json::parse(R"({"task_status":1})"), ""); }),
        ErrorCode::Http);
}

TEST(ResponseParsers, SoraAndRunway) {
    JobStatus st =
        sora_status("m", answer(R"({"status":"failed","error":{"code":"moderation_blocked"}})"));
    EXPECT_EQ(st.error_code, ErrorCode::ContentFiltered);
    EXPECT_EQ(openai_message(R"({"error":{"message":"bad size","code":"invalid_value"}})"),
              "bad size (invalid_value)");
    EXPECT_EQ(error_of([] { sora_video_id("m", answer(R"({"id":1})")); }), ErrorCode::Http);
    st = runway_status("m", answer(R"({"status":"SUCCEEDED","output":"https://r/v.mp4"})"));
    EXPECT_EQ(st.video_url, "https://r/v.mp4");
    st = runway_status("m", answer(R"({"status":"FAILED","failureCode":"SAFETY.INPUT"})"));
    EXPECT_EQ(st.error_code, ErrorCode::ContentFiltered);
    EXPECT_EQ(runway_message(R"({"error":{"message":"m"},"issues":[{"message":"i"}]})"), "m: i");
    EXPECT_EQ(error_of([] { runway_task_id("m", answer("not json")); }), ErrorCode::Http);
}

}  // namespace
