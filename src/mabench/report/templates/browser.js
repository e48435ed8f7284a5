// Question browser. Every model or judge string is untrusted: it is only ever set with
// textContent, never parsed as HTML.
(function () {
  const data = window.MABENCH_QUESTIONS || [];
  const PAGE = 50;
  let page = 0;
  const $ = (id) => document.getElementById(id);
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function filtered() {
    const task = $("f-task").value, run = +$("f-run").value, ok = $("f-ok").value, part = $("f-part").value;
    return data.filter((q) => (!task || q.task === task) && (!part || q.parts.includes(part)) &&
      (ok === "" || (q.runs[run] && String(+q.runs[run].correct) === ok)));
  }
  function render() {
    const rows = filtered(), run = +$("f-run").value, box = $("questions");
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(page, pages - 1);
    $("page").textContent = ` page ${page + 1} / ${pages} (${rows.length} questions) `;
    box.replaceChildren();
    for (const q of rows.slice(page * PAGE, (page + 1) * PAGE)) {
      const d = el("div", null, "q");
      d.appendChild(el("b", `${q.qid} · ${q.task} · ${q.video}`));
      const fr = el("div", null, "frames");
      for (const src of q.frames) {  // a click opens the frame at full size
        const a = document.createElement("a"); a.href = src; a.target = "_blank";
        const i = document.createElement("img"); i.src = src; i.alt = "frame"; a.appendChild(i); fr.appendChild(a);
      }
      d.appendChild(fr);
      if (q.overlay) {  // a built benchmark's contact sheet: what the motion stage measured on this clip
        const det = el("details", null, "overlay");
        det.appendChild(el("summary", "motion overlay (skeleton, head and trunk axes, signals)"));
        const i = document.createElement("img"); i.src = q.overlay; i.alt = "motion overlay"; i.loading = "lazy";
        det.appendChild(i);
        d.appendChild(det);
      }
      d.appendChild(el("pre", q.question));
      d.appendChild(el("div", `reference: ${q.answer ?? "–"}`));
      const r = q.runs[run];
      if (r) {
        // closed answers are right or wrong; an open one is neither: the judge's scores say how good it is
        d.appendChild(el("div", `prediction: ${r.pred ?? "(invalid)"} [${r.method ?? ""}]${r.error ? " error: " + r.error : ""}`,
          q.closed ? (r.correct ? "ok" : "bad") : (r.error ? "bad" : "neutral")));
        d.appendChild(el("pre", r.raw ?? ""));
        if (r.judge) {
          const dims = (window.MABENCH_DIMENSIONS || {})[q.task] || {};
          const s = r.judge.scores;
          const text = s ? Object.keys(s).map((k) => `${k} ${dims[k] ? dims[k].split(" (")[0] : ""}: ${s[k]}/5`).join(" · ")
            : "not scored";
          d.appendChild(el("div", `judge: ${text} — ${r.judge.reason ?? ""}`, "neutral"));
        }
      }
      box.appendChild(d);
    }
  }
  for (const id of ["f-task", "f-run", "f-ok", "f-part"]) $(id).addEventListener("change", () => { page = 0; render(); });
  $("prev").addEventListener("click", () => { page = Math.max(0, page - 1); render(); });
  $("next").addEventListener("click", () => { page += 1; render(); });
  render();
})();
