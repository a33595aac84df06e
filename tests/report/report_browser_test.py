#!/usr/bin/env python3
"""Renders the `vmeval report` gallery in headless Chromium and checks it as a person would see it.

Usage: report_browser_test.py VMEVAL QUESTIONS_DIR WORK_DIR [--chromium BIN] [--screenshot PNG]

Runs baseline-still and baseline-crossfade over QUESTIONS_DIR (baseline-crossfade refuses questions
without final_frame.png), one API model against `vmeval mock-api` told to fail every job, builds the
report, then checks in the browser that every image and video loads (H.264 decoded by Chromium's own
FFmpeg), that each filter shows exactly the cells the output tree says it should, and saves a
screenshot of the whole page. Expectations come from the run folders' metadata.json, not the page.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp_pipe import Chromium  # noqa: E402

FAILING_MODEL = "veo-3.0-generate"


def run(cmd, env=None):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def make_outputs(vmeval, questions, out):
    rc, log = run([vmeval, "generate", "--questions-dir", questions, "--output-dir", out,
                   "-m", "baseline-still,baseline-crossfade", "-q"])
    if rc not in (0, 1):
        sys.exit(f"generate with the baselines exited {rc}:\n{log}")
    mock = subprocess.Popen([vmeval, "mock-api", "--port", "0", "--generation-s", "0.1",
                             "--fault", "job-failed"], stdout=subprocess.PIPE, text=True)
    try:
        url = mock.stdout.readline().split()[-1]
        if not url.startswith("http://127.0.0.1:"):
            sys.exit(f"mock-api did not say where it listens: {url!r}")
        env = dict(os.environ, VMEVAL_MOCK_API=url, VMEVAL_POLL_INTERVAL_S="0.05", GEMINI_API_KEY="ci")
        rc, log = run([vmeval, "generate", "--questions-dir", questions, "--output-dir", out,
                       "-m", FAILING_MODEL, "--jobs", "8", "-q"], env)
        if rc != 1:
            sys.exit(f"the failing model's batch exited {rc}, expected 1:\n{log}")
    finally:
        mock.terminate()
        mock.wait(timeout=10)


def expected_cells(out):
    """{(model, domain, task_id): status} from the newest run folder of each, as the tree says."""
    newest = {}
    for meta in pathlib.Path(out).glob("*/*_task/*/*/metadata.json"):
        run_dir = meta.parent
        if run_dir.name.startswith("."):
            continue
        model, domain, task = run_dir.parts[-4], run_dir.parts[-3][: -len("_task")], run_dir.parts[-2]
        key = (model, domain, task)
        if key not in newest or run_dir.name > newest[key][0]:
            status = "done" if json.loads(meta.read_text())["status"] == "success" else "failed"
            newest[key] = (run_dir.name, status)
    cells = {k: v[1] for k, v in newest.items()}
    models = {k[0] for k in cells}
    questions = {(k[1], k[2]) for k in cells}
    for m in models:
        for d, t in questions:
            cells.setdefault((m, d, t), "skipped")
    return cells


MEDIA_STATE = """(async () => {
  // The product page loads media as it nears the viewport; here every file must load, so ask now.
  document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });
  document.querySelectorAll('video').forEach(v => { v.preload = 'metadata'; });
  const imgs = [...document.images], vids = [...document.querySelectorAll('video')];
  const settled = () => imgs.every(i => i.complete) && vids.every(v => v.readyState >= 2 || v.error);
  for (const end = Date.now() + 20000; !settled() && Date.now() < end;) await new Promise(r => setTimeout(r, 50));
  return {
    images: imgs.map(i => ({src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth})),
    videos: vids.map(v => ({src: v.getAttribute('src'), ready: v.readyState, width: v.videoWidth,
                            error: v.error ? v.error.code : null})),
  };
})()"""

SET_FILTERS = """((models, domain, status) => {
  document.querySelectorAll('input[name=model]').forEach(b => {
    if (b.checked !== models.includes(b.value)) b.click();  // click: what a person does, fires change
  });
  for (const [id, value] of [['f-domain', domain], ['f-status', status]]) {
    const s = document.getElementById(id);
    s.value = value;
    s.dispatchEvent(new Event('change', {bubbles: true}));
  }
  const shown = e => e.getClientRects().length > 0;  // laid out, i.e. not hidden by any ancestor
  return {
    cells: [...document.querySelectorAll('.cell')].filter(shown).map(c => {
      const q = c.closest('article.question');
      return [c.dataset.model, q.dataset.domain, q.querySelector('h3').textContent, c.dataset.status];
    }),
    questions: [...document.querySelectorAll('article.question')].filter(shown).length,
    none_message: shown(document.getElementById('f-none')),
  };
})(%s, %s, %s)"""


def check_filters(browser, cells, failures):
    models = sorted({k[0] for k in cells})
    cases = [
        (models, "", ""),
        (["baseline-still"], "", ""),
        (models, "", "failed"),
        (models, "sorting", "skipped"),
        (["baseline-crossfade", FAILING_MODEL], "maze", "done"),
        (models, "rotation", ""),
    ]
    for sel_models, domain, status in cases:
        want = sorted([m, d, t, s] for (m, d, t), s in cells.items()
                      if m in sel_models and domain in ("", d) and status in ("", s))
        got = browser.evaluate(SET_FILTERS % (json.dumps(sel_models), json.dumps(domain), json.dumps(status)))
        label = f"models={sel_models} domain={domain or 'all'} status={status or 'all'}"
        if sorted(got["cells"]) != want:
            failures.append(f"filter {label}: shows {sorted(got['cells'])}, expected {want}")
        if got["questions"] != len({(d, t) for _, d, t, _ in want}):
            failures.append(f"filter {label}: {got['questions']} question cards shown")
        if got["none_message"] != (not want):
            failures.append(f"filter {label}: 'nothing matches' shown={got['none_message']}")
        print(f"filter {label}: {len(got['cells'])} cells")
    browser.evaluate(SET_FILTERS % (json.dumps(models), '""', '""'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmeval")
    ap.add_argument("questions")
    ap.add_argument("work")
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--screenshot", help="where to save the screenshot (default WORK/gallery.png)")
    args = ap.parse_args()

    work = pathlib.Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out = work / "outputs"
    make_outputs(args.vmeval, args.questions, str(out))
    rc, log = run([args.vmeval, "report", "--output-dir", str(out)])
    if rc != 0:
        sys.exit(f"vmeval report exited {rc}:\n{log}")
    index = out / "_report" / "index.html"
    cells = expected_cells(out)
    print(f"{len(cells)} cells expected; report said: {log.strip()}")

    failures = []
    with Chromium(args.chromium, width=1400, height=1000) as browser:
        browser.open(index.as_uri())
        state = browser.evaluate(MEDIA_STATE)
        want_videos = sum(1 for s in cells.values() if s == "done")
        if len(state["videos"]) != want_videos:
            failures.append(f"{len(state['videos'])} videos on the page, expected {want_videos}")
        for v in state["videos"]:
            if v["ready"] < 1 or v["width"] <= 0:
                failures.append(f"video {v['src']} did not load: readyState {v['ready']}, "
                                f"videoWidth {v['width']}, MediaError {v['error']}")
        want_images = len({(d, t) for _, d, t in cells})  # at least a first frame per question
        if len(state["images"]) < want_images:
            failures.append(f"{len(state['images'])} images on the page, expected at least {want_images}")
        for i in state["images"]:
            if not i["complete"] or i["width"] <= 0:
                failures.append(f"image {i['src']} did not load")
        print(f"{len(state['videos'])} videos and {len(state['images'])} images loaded")
        check_filters(browser, cells, failures)
        shot = pathlib.Path(args.screenshot) if args.screenshot else work / "gallery.png"
        browser.screenshot(str(shot))
        print(f"screenshot: {shot}")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
