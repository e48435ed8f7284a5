"""Can a benchmark be answered without the video? Text-only blind baselines, cues, style against a reference.

    from mabench.audit import audit, write_audit
    res = audit(load_benchmark("benchmark.json"), reference=load_benchmark("official.json"), seed=0)
    write_audit(res, "audit/")   # audit.json + audit.md

scikit-learn is imported here and nowhere else in the package.
"""

from mabench.audit.report import AuditResult, audit, audit_markdown, leak_summary, skipped_line, write_audit

__all__ = ["AuditResult", "audit", "audit_markdown", "leak_summary", "skipped_line", "write_audit"]
