"""MA-Bench inside other evaluation harnesses (inspect_ai, lmms-eval, VLMEvalKit).

Each harness module is glue only: questions, frames, the chat turn, answer extraction, the judge's
prompts and the scoring formula all come from `mabench.integrations.common`, which calls the same
functions `mabench eval` and `mabench judge` do. No harness import happens here.
"""
