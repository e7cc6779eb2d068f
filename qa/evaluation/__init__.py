"""The evaluation: question sets, the scorer, the runner, the reply cache and the development pool.

`newsdesk eval` is its command line; these are the names other modules and the tests use.
"""

from qa.evaluation.datasets import (KINDS, DatasetError, GoldQuestion, baseline_for, default_dataset,
                                    is_squad, load_dataset, load_squad, prepare_squad)
from qa.evaluation.runner import compare, format_comparison, format_table, run_evaluation
from qa.evaluation.scoring import (answer_correct, citation_supported, contains, exact_and_f1,
                                   retrieval_rank, score, summarise)

__all__ = ["KINDS", "DatasetError", "GoldQuestion", "answer_correct", "baseline_for",
           "citation_supported", "compare", "contains", "default_dataset", "exact_and_f1",
           "format_comparison", "format_table", "is_squad", "load_dataset", "load_squad",
           "prepare_squad", "retrieval_rank", "run_evaluation", "score", "summarise"]
