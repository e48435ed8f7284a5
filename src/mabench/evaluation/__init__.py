"""Evaluation: the task registry, prompts, answer extraction, the runner, the judge, the metrics,
the one scoring path of a run (`results`), the run directory's owner (`rundir`) and the API's
evaluate / judge / score (`api`).

(Named `evaluation`, not `evaluate`, since `mabench.evaluate` is the API function.)
"""
