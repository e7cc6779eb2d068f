"""Every fixed threshold of the answer path in one place, each with what it is for.

The ones a user tunes are settings (`NEWSDESK_MIN_RELEVANCE`, `NEWSDESK_RELEVANCE_GAP`,
`NEWSDESK_MIN_QUESTION_COVERAGE`, `NEWSDESK_PASSAGES_PER_ANSWER`: index/settings.py); these are the
rest, calibrated on the gold set. Cosines are on MiniLM's scale (e5's are mapped onto it).
"""

# ----- retrieval (qa/retrieval.py) --------------------------------------------------------------
# Reciprocal rank fusion constant (Cormack et al. 2009); 60 is the usual choice.
RRF_K = 60
# Candidates taken from each of the dense and the keyword search before fusion.
CANDIDATES = 30
# The fused pool is re-ranked by meaning plus the question's own words (names, numbers), which
# RRF alone weighs no higher than a vague semantic match. All 30 fused candidates are re-ranked
# (session 10: the best 12): on the pool's fit news sets reader recall 0.54 -> 0.56 and 0.59 ->
# 0.59, the seeds 0.83 -> 0.83, at no cost in time (19-20 ms on 81,000 sentences).
RERANK_POOL = 30
# Weight of the share of the question's words a passage has, added to its cosine when re-ranking.
WORD_OVERLAP_WEIGHT = 0.5
# A sentence that holds the kind of thing asked for (a date for "on what date", a count of
# countries for "how many countries") is worth this much more than its words and meaning say.
ASKED_KIND_BONUS = 0.15
# Another article's telling of the same statement is usually this close (cosine) or closer; the
# disagreement check itself then decides, word by word, whether the two tellings differ.
MIN_TELLING_SIMILARITY = 0.6
# Nearest passages looked at for each cited one: of any article, and of its story's other articles.
TELLINGS_PER_PASSAGE = 4
STORY_TELLINGS_PER_PASSAGE = 2
# Sentences each side of a retrieved one that may be read with it, when the reading budget allows
# (NEWSDESK_READING_TOKENS): a paragraph's worth.
WINDOW_RADIUS = 3
# The second reading reads at most this many retrieved passages (those that mention most).
FOCUSED_PASSAGES = 2

# ----- grounding and checks (qa/citations.py, qa/grounding.py, qa/checks.py) --------------------
# A claim is supported when at least this share of its new content words is in the passage.
MIN_SUPPORT = 0.5
# Claims and passages this similar (cosine) support each other even when their words differ.
MIN_CLAIM_SIMILARITY = 0.72
# Two single words this similar are taken as the same thing said otherwise ("problems" and
# "issues" 0.88, "minister" and "ministry" 0.81); "attended" and "participated" (0.62) are not.
MIN_WORD_SIMILARITY = 0.75
# A text is read as English when at least this share of its words are English function words
# (about 0.4 in English prose, under 0.1 in French or Urdu): only then must names match.
MIN_ENGLISH_SHARE = 0.15

# ----- presentation (qa/disagreements.py, qa/time_answers.py, qa/evidence_mode.py) --------------
# A disputed figure or name is a few words; longer differences are paraphrase, not dispute.
MAX_VERSION_WORDS = 6
# Two passages whose words match less than this (difflib ratio) are not two tellings of one statement.
MIN_TELLING_RATIO = 0.5
# Reports of a developing story that give a figure differently are updates of one fact when this
# few days apart; further apart (a quake of 2016 and one of 2017), they are about different events.
MAX_UPDATE_DAYS = 31
# Words either side of a figure that say what it counts ("people ... in relief camps").
CONTEXT_CHARS = 45
# Evidence mode quotes the passages within this relevance of the best one (at most two).
EXTRACT_RELEVANCE_GAP = 0.15
