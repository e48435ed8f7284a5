"""The reference: the public MA-Bench runner's approach, written by us for side-by-side timing.

One question at a time; for every question the clip is re-opened, seeked to each sample time
(3 fps from the first frame, at most 8 frames), every frame JPEG-encoded and base64'd, and one
synchronous chat-completions request is sent with the official `openai` client.

    python bench/reference_runner.py BENCH VIDEOS BASE_URL MODEL OUT.jsonl
"""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

import av
import openai

FPS = 3.0
MAX_FRAMES = 8
SYSTEM = "Answer with the option's letter only, or Yes or No."


def frames_for_question(path: Path) -> list[str]:
    urls = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base) if stream.duration else float(container.duration / 1e6)
        t, times = 0.0, []
        while t < duration and len(times) < MAX_FRAMES:
            times.append(t)
            t += 1 / FPS
        for t in times:
            container.seek(int(t / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= t - 1e-3:
                    buf = io.BytesIO()
                    frame.to_image().save(buf, format="JPEG", quality=85)
                    urls.append("data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode())
                    break
    return urls


def main() -> None:
    bench, videos, base_url, model, out = sys.argv[1:6]
    questions = json.loads(Path(bench).read_text())
    client = openai.OpenAI(api_key="EMPTY", base_url=base_url, max_retries=2)
    with open(out, "w") as f:
        for q in questions:
            urls = frames_for_question(Path(videos) / f"{q['video_name']}.mp4")
            content = [{"type": "image_url", "image_url": {"url": u}} for u in urls]
            content.append({"type": "text", "text": q["question"]})
            resp = client.chat.completions.create(
                model=model, temperature=0, max_tokens=64,
                messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}])
            f.write(json.dumps({"qid": q["qid"], "raw_output": resp.choices[0].message.content}) + "\n")


if __name__ == "__main__":
    main()
