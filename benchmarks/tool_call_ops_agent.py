"""The ops agent (examples/ops_agent): LoRA-tuned Gemma 3 270M tool caller vs the same base
prompted zero- and few-shot and the encoder route, on the held-out first actions.

    OMP_NUM_THREADS=1 python benchmarks/tool_call_ops_agent.py [--set tool_call.eval_limit=60]

Writes benchmarks/results/tool_call_ops_agent.json. CPU-sized: `train.max_minutes` caps the
LoRA run (the figure says how many steps and epochs it bought).
"""

from __future__ import annotations

from lm_common import ROOT
from tool_call_common import options, run

if __name__ == "__main__":
    args = options(__doc__.splitlines()[0])
    run("tool_call_ops_agent", ROOT / "examples" / "ops_agent" / "task.yaml", [], args)
