"""CI stage: MA-Bench in lmms-eval against the project's test server; the scores must equal `mabench eval`'s.

Run in a venv with lmms-eval and mabench installed (see .ci/run):  python tests/lmms_eval_stage.py --work DIR

1. 4 real clips and a benchmark whose questions are unique per clip;
2. the test server (`--digest-pixels`: lmms-eval re-encodes the frames as PNG, so answers are keyed by
   the frames' pixels, which are the same, instead of their bytes, which are not);
3. `mabench eval` with the judge -> scores.json;
4. `mabench integrations lmms-eval`, then `python -m lmms_eval --tasks mabench --model openai`, with the
   judge at the same server;
5. every closed accuracy and every open dimension mean in lmms-eval's results JSON equals scores.json's.
lmms-eval exits 0 on errors, so only the results JSON counts.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mabench.synth import write_box_clip
from mabench.synth.questions import placeholder_records
from mabench.taxonomy import CLOSED_TASKS, OPEN_DIMENSIONS, OPEN_TASKS

N_CLIPS = 4


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    work = ap.parse_args().work.absolute()
    # `timeout` sends TERM: leave through `finally`, which stops the test server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for i in range(N_CLIPS):
        write_box_clip(work / "clips" / f"clip_{i:03d}.mp4", seconds=1.0 + 0.25 * i, fps=20, seed=i)
    bench = work / "bench.json"
    bench.write_text(json.dumps(placeholder_records(N_CLIPS, seed=1, unique_per_clip=True)), encoding="utf-8")

    server = subprocess.Popen([sys.executable, "-m", "mabench.testing.openai_server", "--port", "0", "--digest-pixels"],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("listening on "):
            print(f"lmms-eval stage: the test server did not start ({line!r})")
            return 1
        url = line.split()[-1]
        mab = [sys.executable, "-m", "mabench"]
        subprocess.run([*mab, "eval", str(bench), "--videos", str(work / "clips"), "--model", "openai:test-model",
                        "--base-url", url, "--out", str(work / "run"), "--judge", "openai:test-model",
                        "--judge-base-url", url, "--judge-cache", str(work / "judge.sqlite")],
                       check=True, stdout=subprocess.DEVNULL)
        ref = json.loads((work / "run" / "scores.json").read_text())
        subprocess.run([*mab, "integrations", "lmms-eval", "--bench", str(bench), "--videos", str(work / "clips"),
                        "--out", str(work / "tasks")], check=True, stdout=subprocess.DEVNULL)
        env = {**os.environ, "MABENCH_JUDGE_MODEL": "test-model", "MABENCH_JUDGE_BASE_URL": url,
               "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(work / "hf")}
        t1 = time.time()
        r = subprocess.run([sys.executable, "-m", "lmms_eval", "--include_path", str(work / "tasks"),
                            "--tasks", "mabench", "--model", "openai",
                            "--model_args", f"model_version=test-model,base_url={url},api_key=none",
                            "--output_path", str(work / "lmms"), "--log_samples"],
                           env=env, capture_output=True, text=True, timeout=900)
        lmms_s = time.time() - t1
    finally:
        server.terminate()
        server.wait(timeout=10)
    found = glob.glob(str(work / "lmms" / "**" / "*_results.json"), recursive=True)
    if not found:
        print(r.stdout[-3000:], r.stderr[-3000:], sep="\n")
        print("lmms-eval stage FAILED: no results JSON (lmms-eval exits 0 on errors)")
        return 1
    res = json.loads(Path(found[0]).read_text())["results"]
    bad = []
    for code in CLOSED_TASKS:
        got, want = res[f"mabench_{code.lower()}"]["accuracy,none"], ref["tasks"][code]["accuracy"]
        print(f"{code}: lmms-eval {got:.4f}  mabench eval {want:.4f}")
        if not math.isclose(got, want, abs_tol=1e-9):
            bad.append(code)
    for code in OPEN_TASKS:
        for dim in OPEN_DIMENSIONS[code]:
            got, want = res[f"mabench_{code.lower()}"][f"{dim},none"], ref["tasks"][code]["dims"][dim]
            print(f"{code} {dim}: lmms-eval {got:.4f}  mabench eval {want:.4f}")
            if not math.isclose(got, want, abs_tol=1e-9):
                bad.append(f"{code} {dim}")
    accs = [ref["tasks"][c]["accuracy"] for c in CLOSED_TASKS]
    if len(set(accs)) < 2 or not 0 < ref["closed_avg"] < 100:
        bad.append("the server's answers gave no spread of right and wrong: equality would prove nothing")
    print(f"lmms-eval stage: {len(ref['tasks'])} tasks, lmms-eval run {lmms_s:.0f} s, stage {time.time() - t0:.0f} s")
    if bad:
        print("lmms-eval stage FAILED: differs from mabench eval on " + ", ".join(bad))
        return 1
    print("lmms-eval stage OK: every closed accuracy and open dimension equals mabench eval's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
