#include <cstdio>

#include "src/report/page_assets.hpp"
#include "vmeval/core/url.hpp"
#include "vmeval/core/time.hpp"
#include "vmeval/report/report.hpp"

namespace vmeval::report {

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string url_path(std::string_view rel) { return percent_encode(rel, true); }

namespace {

/// Appends HTML; text goes through add_text, which escapes, and markup through raw.
class Html {
public:
    Html& raw(std::string_view s) {
        out_ += s;
        return *this;
    }
    Html& text(std::string_view s) {
        out_ += html_escape(s);
        return *this;
    }
    /// ` name="value"` with the value escaped.
    Html& attr(std::string_view name, std::string_view value) {
        out_ += ' ';
        out_ += name;
        out_ += "=\"";
        out_ += html_escape(value);
        out_ += '"';
        return *this;
    }
    Html& src(std::string_view name, const Media& m) { return attr(name, url_path(m.rel)); }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

std::string seconds_text(double s) { return s < 0 ? "–" : human_duration(s); }

std::string plural(int n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

void render_summary(Html& h, const Gallery& g) {
    h.raw(
        "<table class=\"summary\"><thead><tr><th>model</th><th>done</th><th>failed</th>"
        "<th title=\"no run folder: refused by the model or not attempted\">skipped</th>"
        "<th title=\"median wall time of the done runs\">median time</th>"
        "<th title=\"wall time of the newest runs, done or failed\">total "
        "time</th></tr></thead><tbody>");
    for (const auto& s : g.summary) {
        h.raw("<tr").attr("data-model", s.model).raw("><td>").text(s.model).raw("</td>");
        h.raw("<td class=\"n-done\">").text(std::to_string(s.done)).raw("</td>");
        h.raw("<td class=\"n-failed\">").text(std::to_string(s.failed)).raw("</td>");
        h.raw("<td class=\"n-skipped\">").text(std::to_string(s.skipped)).raw("</td>");
        h.raw("<td>").text(seconds_text(s.median_s)).raw("</td>");
        h.raw("<td>").text(seconds_text(s.total_s)).raw("</td></tr>");
    }
    h.raw("</tbody></table>");
}

void render_filters(Html& h, const Gallery& g) {
    h.raw("<form class=\"filters\" id=\"filters\" onsubmit=\"return false\">");
    h.raw("<fieldset><legend>Models</legend>");
    for (const auto& m : g.models) {
        h.raw("<label><input type=\"checkbox\" name=\"model\" checked").attr("value", m).raw("> ");
        h.text(m).raw("</label>");
    }
    h.raw(
        "</fieldset><label><span class=\"lbl\">Domain</span><select id=\"f-domain\">"
        "<option value=\"\">all</option>");
    for (const auto& d : g.domains)
        h.raw("<option").attr("value", d).raw(">").text(d).raw("</option>");
    h.raw(
        "</select></label><label><span class=\"lbl\">Status</span><select id=\"f-status\">"
        "<option value=\"\">all</option><option value=\"done\">done</option>"
        "<option value=\"failed\">failed</option><option value=\"skipped\">skipped</option>"
        "</select></label><output id=\"f-count\"></output></form>");
}

void render_cell(Html& h, const Cell& c) {
    h.raw("<div").attr("class", "cell " + c.status).attr("data-model", c.model);
    h.attr("data-status", c.status)
        .raw("><div class=\"head\"><span class=\"model\">")
        .text(c.model);
    h.raw("</span><span class=\"badge\">").text(c.status).raw("</span></div>");
    if (c.video) {
        // preload=none: the page script asks for metadata as a video nears the viewport, so a
        // gallery of thousands of runs opens at once instead of fetching every clip first.
        h.raw("<div class=\"screen\"><video controls muted loop playsinline preload=\"none\"");
        h.src("src", *c.video).raw("></video></div>");
    } else {
        h.raw("<div class=\"screen empty\"><p class=\"why\">");
        if (!c.error_code.empty()) h.raw("<code>").text(c.error_code).raw("</code> ");
        h.text(c.message).raw("</p></div>");
    }
    std::vector<std::string> facts;
    if (c.seconds >= 0) facts.push_back(human_duration(c.seconds));
    if (c.width > 0) facts.push_back(std::to_string(c.width) + "×" + std::to_string(c.height));
    if (c.frames > 0) {
        char fps[32];
        std::snprintf(fps, sizeof fps, "%g", c.fps);
        facts.push_back(std::to_string(c.frames) + " frames @ " + fps + " fps");
    }
    if (c.earlier_runs > 0) facts.push_back(plural(c.earlier_runs, "earlier run", "earlier runs"));
    if (!facts.empty()) {
        std::string joined;
        for (const auto& f : facts) joined += (joined.empty() ? "" : " · ") + f;
        h.raw("<div class=\"facts\">").text(joined).raw("</div>");
    }
    if (c.contact_sheet) {
        h.raw("<details class=\"sheet\"><summary>contact sheet</summary><a");
        h.src("href", *c.contact_sheet).raw("><img loading=\"lazy\" alt=\"contact sheet\"");
        h.src("src", *c.contact_sheet).raw("></a></details>");
    }
    if (!c.run_id.empty()) h.raw("<div class=\"run\">").text(c.run_id).raw("</div>");
    h.raw("</div>");
}

void render_frame(Html& h, const std::optional<Media>& m, const char* caption) {
    if (!m) return;
    h.raw("<figure><a").src("href", *m).raw("><img loading=\"lazy\"").attr("alt", caption);
    h.src("src", *m).raw("></a><figcaption>").text(caption).raw("</figcaption></figure>");
}

void render_question(Html& h, const Question& q) {
    h.raw("<article class=\"question\"").attr("data-domain", q.domain);
    h.attr("id", q.domain + "/" + q.task_id).raw("><div class=\"qinfo\"><h3>").text(q.task_id);
    h.raw("</h3><p class=\"prompt\">")
        .text(q.prompt.empty() ? "(prompt unknown: no run folder)" : q.prompt);
    h.raw("</p><div class=\"frames\">");
    render_frame(h, q.first_frame, "first frame");
    render_frame(h, q.final_frame, "final frame");
    h.raw("</div></div><div class=\"cells\">");
    for (const auto& c : q.cells) render_cell(h, c);
    h.raw("</div></article>");
}

}  // namespace

std::string render_html(const Gallery& g) {
    Html h;
    const std::string root =
        g.output_dir.filename().empty() ? g.output_dir.string() : g.output_dir.filename().string();
    h.raw(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>vmeval: ");
    h.text(root).raw("</title><style>").raw(gallery_css()).raw("</style></head><body>");
    h.raw("<header class=\"top\"><h1>vmeval results</h1><p class=\"sub\"><code>");
    h.text(g.output_dir.string()).raw("</code> · ");
    h.text(plural(static_cast<int>(g.questions.size()), "question", "questions") + " in " +
           plural(static_cast<int>(g.domains.size()), "domain", "domains") + " · " +
           plural(static_cast<int>(g.models.size()), "model", "models") + " · " +
           plural(g.runs, "run folder", "run folders"));
    if (!g.latest_finished_at.empty()) h.text(" · newest run finished " + g.latest_finished_at);
    h.raw("</p></header><div class=\"bar\">");
    render_summary(h, g);
    render_filters(h, g);
    h.raw("</div><main>");
    if (g.questions.empty()) {
        h.raw(
            "<p class=\"none\">No finished runs yet. This page is rewritten by the next "
            "<code>vmeval report</code> (or continuously with <code>--watch</code>).</p>");
    }
    size_t i = 0;
    for (const auto& domain : g.domains) {
        size_t end = i;
        while (end < g.questions.size() && g.questions[end].domain == domain) ++end;
        h.raw("<section class=\"domain\"").attr("data-domain", domain).raw("><h2>").text(domain);
        h.raw(" <span class=\"count\">")
            .text(plural(static_cast<int>(end - i), "question", "questions"));
        h.raw("</span></h2>");
        for (; i < end; ++i) render_question(h, g.questions[i]);
        h.raw("</section>");
    }
    h.raw(
        "<p class=\"none\" id=\"f-none\" hidden>Nothing matches these filters.</p></main><script>");
    h.raw(gallery_js()).raw("</script></body></html>\n");
    return h.take();
}

}  // namespace vmeval::report
