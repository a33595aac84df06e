#!/usr/bin/env python3
"""Validates metadata.json and batch summaries written by vmeval against the checked-in JSON Schemas.

Usage: validate_outputs.py VMEVAL_BINARY SOURCE_DIR SAMPLES_DIR
Runs the real binary over the bundled examples, then validates those outputs and the samples that
make_samples wrote (a failed generation, a library-API run). Uses Debian's python3-jsonschema.
"""
import copy
import json
import pathlib
import subprocess
import sys
import tempfile

import jsonschema


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    binary, source, samples = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    run_schema = load(source / "docs" / "metadata.schema.json")
    batch_schema = load(source / "docs" / "batch_summary.schema.json")
    run_validator = jsonschema.Draft202012Validator(run_schema)
    batch_validator = jsonschema.Draft202012Validator(batch_schema)
    jsonschema.Draft202012Validator.check_schema(run_schema)
    jsonschema.Draft202012Validator.check_schema(batch_schema)

    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "out"
        proc = subprocess.run([binary, "-q", "generate", "--questions-dir", str(source / "examples" / "questions"),
                               "--output-dir", str(out), "-m", "all-baselines"],
                              capture_output=True, text=True)
        # sorting_0001 has no final frame, so baseline-crossfade refuses it: exit 1 is expected.
        if proc.returncode != 1:
            print(proc.stdout, proc.stderr)
            raise SystemExit(f"vmeval generate exited {proc.returncode}, expected 1")

        statuses = {"success": 0, "failed": 0}
        batches = 0
        for root in (out, samples):
            for path in sorted(root.rglob("metadata.json")):
                doc = load(path)
                run_validator.validate(doc)
                statuses[doc["status"]] += 1
            for path in sorted(root.rglob("_batches/*.json")):
                batch_validator.validate(load(path))
                batches += 1

        if statuses["success"] < 13 or statuses["failed"] < 1 or batches < 2:
            raise SystemExit(f"too few documents validated: {statuses}, {batches} batch summaries")

        # The validator must be able to fail: a document missing its status is rejected.
        sample = load(next(out.rglob("metadata.json")))
        broken = copy.deepcopy(sample)
        del broken["status"]
        if run_validator.is_valid(broken):
            raise SystemExit("schema accepted a metadata.json without status")
        broken = copy.deepcopy(sample)
        broken["status"] = "success"
        broken["output"] = None
        if run_validator.is_valid(broken):
            raise SystemExit("schema accepted a success without output")

        # Every successful run from the real binary has its contact sheet, and the file is there.
        for path in out.rglob("metadata.json"):
            doc = load(path)
            if doc["status"] == "success" and (doc.get("contact_sheet") != "contact_sheet.png"
                                               or not (path.parent / "contact_sheet.png").is_file()):
                raise SystemExit(f"{path}: successful run without contact_sheet.png")
        failed = next(load(p) for p in samples.rglob("metadata.json") if load(p)["status"] == "failed")
        failed["contact_sheet"] = "contact_sheet.png"
        if run_validator.is_valid(failed):
            raise SystemExit("schema accepted a contact sheet on a failed run")

    print(f"validated {statuses['success']} successful and {statuses['failed']} failed runs, "
          f"{batches} batch summaries")


if __name__ == "__main__":
    main()
