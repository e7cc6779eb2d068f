"""The development pool: question sets to tune on (`fit`) and to report on (`check`), as the
manifest `qa/data/pool.json` records them, and each set ready to run with its own articles.

The split is made once, by a fixed seed (README, "Development pool"); `pool_build` makes the sets.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from index.settings import Settings
from qa.evaluation.datasets import GoldQuestion, load_dataset

PARTS = ("fit", "check")
PART_PURPOSE = {
    "fit": "tune on it: prompts, retrieval, thresholds, examples",
    "check": "run it to report; never read its questions or answers, never choose by it",
}
# The years of RealTimeQA this pool may read; everything else in that repository is reserved.
REALTIMEQA_YEARS = ("2024", "2025")
REALTIMEQA_REPOSITORY = "realtimeqa/realtimeqa_public"
# Where each news set starts: the first week of January and of July of each year (January 2025
# from its first full-size week: the 3 January quiz has 10 questions, the others 20). A set then
# takes the following weeks until it has MIN_WEEKS weeks, MIN_QUESTIONS and MIN_ARTICLES.
WINDOWS = (
    ("rtqa-2024-01", "20240105"),
    ("rtqa-2024-07", "20240705"),
    ("rtqa-2025-01", "20250110"),
    ("rtqa-2025-07", "20250704"),
)
SEED = 19  # the number; fixed once, never to be changed to get a "better" split
SEED_HELDOUT_FILES = ("heldout.jsonl", "heldout2.jsonl", "heldout3.jsonl")  # not heldout4: the gate
SQUAD_FILE = "squad/dev-v2.0-sample.json"
POOL_FOLDER = "pool"


class PoolError(ValueError):
    """The pool cannot be built or read as asked; the message says why."""


@dataclass(frozen=True)
class PoolPlan:
    """What the builder makes: its windows, how large a news set must be, and the split's seed."""

    windows: tuple[tuple[str, str], ...] = WINDOWS
    min_weeks: int = 4
    min_questions: int = 100
    min_articles: int = 600
    seed: int = SEED

    def as_dict(self) -> dict:
        return {"windows": [list(w) for w in self.windows], "min_weeks": self.min_weeks,
                "min_questions": self.min_questions, "min_articles": self.min_articles,
                "seed": self.seed}


def repository_data() -> Path:
    """The repository's `qa/data` folder (gold, held-out and SQuAD sets, and the manifest)."""
    return Path(str(files("qa").joinpath("data")))


def default_manifest() -> Path:
    return repository_data() / "pool.json"


def repository_seeds() -> Path:
    return Path(__file__).resolve().parents[2] / "seeds"




# ----- the split --------------------------------------------------------------------------------
def split_half(units: list, seed: int, group: str) -> tuple[list, list]:
    """Units shuffled by the seed and the group's name; the first half (rounded up) is `fit`.

    Both lists keep the units' sorted order.
    """
    shuffled = sorted(units)
    random.Random(f"{seed}:{group}").shuffle(shuffled)
    half = math.ceil(len(shuffled) / 2)
    return sorted(shuffled[:half]), sorted(shuffled[half:])


def split_news_sets(years: dict[str, str], seed: int) -> dict[str, str]:
    """Whole news sets to a part: within each year, half to fit and half to check, by the seed.

    `years` maps each set's name to the year of its first week.
    """
    parts = {}
    for year in sorted(set(years.values())):
        fit, check = split_half([n for n, y in years.items() if y == year], seed, f"realtimeqa:{year}")
        parts.update({n: "fit" for n in fit} | {n: "check" for n in check})
    return parts




# ----- the manifest ---------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(manifest: dict, path: Path) -> None:
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_manifest(path: Path | None = None) -> dict:
    path = path or default_manifest()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PoolError(f"{path}: no pool manifest ({error})") from None


_COMPARED = ("part", "questions", "answerable", "articles", "questions_sha256", "articles_sha256")


def differences(built: dict, manifest: dict) -> list[str]:
    """How a build differs from the manifest: one line each, empty when it is the same pool."""
    problems = []
    if built["plan"] != manifest.get("plan"):
        problems.append("the plan (windows, sizes or seed) differs from the manifest's")
    recorded = {e["name"]: e for e in manifest.get("sets", [])}
    made = {e["name"]: e for e in built["sets"]}
    for name in sorted(recorded.keys() - made.keys()):
        problems.append(f"{name}: in the manifest, not built")
    for name in sorted(made.keys() - recorded.keys()):
        problems.append(f"{name}: built, not in the manifest")
    for name in sorted(made.keys() & recorded.keys()):
        for key in _COMPARED:
            if made[name].get(key) != recorded[name].get(key):
                problems.append(f"{name}: {key} is {made[name].get(key)}, the manifest says "
                                f"{recorded[name].get(key)}")
    return problems



# ----- using the pool ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolSet:
    """One runnable set of the pool: its questions and its own articles folder."""

    name: str
    part: str
    source: str  # "realtimeqa", "squad" or "seed-heldout"
    questions_path: Path  # gold-set JSONL
    articles_dir: Path

    @property
    def is_squad(self) -> bool:
        return self.source == "squad"

    @property
    def squad_path(self) -> Path | None:
        """The part's filtered SQuAD file (for `prepare_squad`), for a SQuAD set."""
        return self.questions_path.parent / "squad.json" if self.is_squad else None

    @property
    def store_dir(self) -> Path:
        """A store of this set's own, beside its articles (kept when the pool is rebuilt)."""
        return self.questions_path.parent / "store"

    def questions(self) -> list[GoldQuestion]:
        return load_dataset(self.questions_path)

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` with this set's articles folder and store."""
        return settings.model_copy(update={"articles_dir": self.articles_dir,
                                           "data_dir": self.store_dir})


def pool_sets(part: str, data_dir: Path, manifest: Path | None = None,
              verify: bool = True) -> list[PoolSet]:
    """The part's sets as built under `data_dir/pool/`, in the manifest's order.

    With `verify`, a questions file that is missing or differs from the manifest is an error.
    """
    if part not in PARTS:
        raise PoolError(f"part must be one of {', '.join(PARTS)}, not {part!r}")
    sets = []
    for entry in read_manifest(manifest)["sets"]:
        if entry["part"] != part:
            continue
        folder = data_dir / POOL_FOLDER / entry["name"]
        questions = folder / "questions.jsonl"
        if not questions.is_file():
            raise PoolError(f"{questions}: not built; run `newsdesk pool build --realtimeqa PATH`")
        if verify and _sha256(questions) != entry["questions_sha256"]:
            raise PoolError(f"{questions}: differs from the manifest; rebuild the pool")
        sets.append(PoolSet(entry["name"], part, entry["source"], questions, folder / "articles"))
    return sets


def format_pool(manifest: dict, data_dir: Path | None = None) -> str:
    """The sets by part, with their counts and, given a data folder, whether each is built."""
    rows = []
    for part in PARTS:
        rows.append(f"{part} ({manifest['parts'][part]}): {manifest['totals'][part]} questions")
        for entry in manifest["sets"]:
            if entry["part"] != part:
                continue
            weeks = (f", weeks {entry['weeks'][0]}-{entry['weeks'][-1]}"
                     if entry.get("weeks") else "")
            state = ""
            if data_dir is not None:
                questions = data_dir / POOL_FOLDER / entry["name"] / "questions.jsonl"
                state = ("  built" if questions.is_file()
                         and _sha256(questions) == entry["questions_sha256"]
                         else "  NOT BUILT" if not questions.is_file() else "  DIFFERS")
            rows.append(f"  {entry['name']:20s} {entry['questions']:4d} questions "
                        f"({entry['answerable']} answerable), {entry['articles']} articles"
                        f"{weeks}{state}")
    return "\n".join(rows)
