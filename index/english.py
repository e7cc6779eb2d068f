"""The words of English that newsdesk reads by rule: number words, months and weekdays, the patterns
of questions and replies, pronouns, stop words. One place, used by `index/dates.py` and every stage of qa/.

Everything here is a table or a regular expression over English news prose and English questions;
the rules that use them live with their stage. Where two tables overlap they are kept as they were
measured (the next issue measures and merges them), and each says what it is for.
"""

from __future__ import annotations

import re

# ----- numbers ----------------------------------------------------------------------------------
# The one table of number words and their values; the tables below are taken from it.
NUMBER_VALUES = {word: value for value, word in enumerate(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split(), start=1)}
NUMBER_VALUES.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                      "eighty": 80, "ninety": 90})

# Counts spelled out, as figures: "two troops" is a figure a passage must give, as "two" or "2".
# "One" is left out: it is as often "one of them" as a count.
SPELLED_FIGURES = {word: str(value) for word, value in NUMBER_VALUES.items() if value >= 2}

# A count of days, weeks, months or years in "two weeks ago" ("a" and "an" count one).
AGO_COUNTS = {"a": 1, "an": 1, **{word: value for word, value in NUMBER_VALUES.items() if value <= 12}}

# Number words that give a count ("dozens of countries"), as a regular expression alternation;
# "one" is as often "one of them", and "several", "many" and "scores" only hint at a count.
COUNT_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
               "forty|fifty|hundred|dozen|dozens|hundreds|thousands|millions")
# Words that open a quantity of something ("one of nearly 45 countries", "several countries").
QUANTITY_WORDS = f"one|{COUNT_WORDS}|several|many|scores"

# "Two hundred" and "twenty-five" are figures SPELLED_FIGURES cannot write in digits: a number word
# followed by one of these is left to the words' own check.
SCALES = frozenset("hundred hundreds thousand thousands million millions billion billions trillion "
                   "dozen dozens".split())

# Words before a number that qualify it ("nearly 45"), and do not name what it counts.
QUALIFIERS = frozenset(
    "nearly about around almost some over more less fewer than at least up to roughly "
    "approximately only just of".split()
)
# A quantifier before two versions of a fact is part of each ("all sides" / "all stakeholders").
QUANTIFIERS = frozenset("all every each both no none some most many few several any".split())

# A count: digits or a number word ("217", "dozens").
COUNT = re.compile(rf"\b\d[\d,.]*\b|\b(?:{COUNT_WORDS})\b", re.IGNORECASE)
# A year of the last two centuries standing alone ("the 2017 earthquake"): a date, not a count.
RECENT_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# An amount: money, a share, or a measure ("$4.5 billion", "30%", "two million tonnes", "7 km").
AMOUNT = re.compile(
    rf"[$€£¥]\s?\d|\b(?:\d[\d,.]*|{COUNT_WORDS})\s*(?:%|percent\b|per cent\b|(?:million|billion|trillion)\b|"
    r"(?:dollars?|euros?|pounds?|yen|yuan|rupees?|pesos?|francs?|(?:kilo|centi|milli)?(?:metre|meter|"
    r"mile|ton|tonne|gram|litre|liter|gallon|barrel|acre|hectare|degree)s?|km|kg|mph|cm|mm)\b)",
    re.IGNORECASE)

# ----- months and weekdays ----------------------------------------------------------------------
# Not strftime("%B"): that follows the process's locale.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
_ABBREVIATIONS = {"January": ("Jan",), "February": ("Feb",), "March": ("Mar",), "April": ("Apr",),
                  "June": ("Jun",), "July": ("Jul",), "August": ("Aug",), "September": ("Sept", "Sep"),
                  "October": ("Oct",), "November": ("Nov",), "December": ("Dec",)}
# {"January": 1, "Jan": 1, ...}: every way news prose writes a month, capitalised.
MONTH_NAMES = {form: number for number, month in enumerate(MONTHS, start=1)
               for form in (month, *_ABBREVIATIONS.get(month, ()))}
# A month's name in lower case, as a question may give it; "may" is left out (as often a verb).
MONTH_WORDS = frozenset(month.lower() for month in MONTHS if month != "May") | {"sept"}
# Any month, any case ("dec", "September"), as a regular expression alternation.
MONTH_ANY_CASE = "|".join(sorted((form.lower() for form in MONTH_NAMES), key=len, reverse=True))
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"

# ----- dates and times in text ------------------------------------------------------------------
# A year or a decade of the last thousand years ("1066", "the 1050s"), or an older one after a
# word that makes it one ("in 911"): history is news too.
YEAR = r"\b(?:1\d|20)\d\d(?:'?s)?\b|\b(?:in|since|by|until|from|around|circa)\s+\d{3,4}(?:'?s)?\b"
# A calendar date: a month, a weekday, a year, or digits like 19/12/2025.
DATE = re.compile(rf"\b(?:{MONTH_ANY_CASE})\b\.?|\b{WEEKDAY}\b|{YEAR}|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b",
                  re.IGNORECASE)
CLOCK = r"\b\d{1,2}(?::\d\d)?\s*[ap]\.?m\b\.?|\b\d{1,2}:\d\d\b"  # "1:14 p.m.", "7am", "12:30"
# Any time: a date, a clock time, or words like "next month", "yesterday", "two weeks ago".
TIME = re.compile(rf"{DATE.pattern}|{CLOCK}|\b(?:today|yesterday|tomorrow|tonight|ago|recently|soon|"
                  r"(?:this|next|last|past|coming|previous)\s+(?:week|month|year|weekend|day|spring|summer|autumn|fall|winter)"
                  r"|weeks?|months?|years?|days?|hours?|morning|evening|night|noon|midnight|decades?|centur(?:y|ies)|"
                  r"spring|summer|autumn|winter|earlier|later)\b", re.IGNORECASE)
# Words before a bare weekday that put it ahead of the article ("will meet on Monday").
FUTURE_CUE = re.compile(r"\b(?:will|would|shall|is due|are due|due to|is expected|are expected|"
                        r"scheduled|set to|plans? to|planned|to be held|upcoming|next)\b",
                        re.IGNORECASE)
# "a meeting for Tuesday": a day set ahead ("by Saturday night, officials reported" is not).
DEADLINE = re.compile(r"\bfor\s+$", re.IGNORECASE)

# ----- what a question asks for -----------------------------------------------------------------
# Three patterns of "asks about time", kept as measured: WHEN decides what retrieval and the prompt
# add (a passage with a time, the articles' dates); ASKS_FOR_DATE and ASKS_FOR_TIME decide what the
# answer must hold (a date; any time).
WHEN = re.compile(
    r"^\s*(?:and\s+|so\s+|but\s+)?when\b|\b(?:what|which)\s+(?:date|day|time|year|month|week)\b"
    r"|\bon\s+which\s+(?:date|day)\b|\bhow\s+long\s+ago\b|\bsince\s+when\b", re.IGNORECASE)
ASKS_FOR_DATE = re.compile(r"\b(?:what|which)\s+(?:date|day|year|month)\b", re.IGNORECASE)
ASKS_FOR_TIME = re.compile(r"^\s*(?:and\s+)?when\b|\bat what time\b|\bhow long ago\b", re.IGNORECASE)
# The state of things as of now ("the latest toll", "so far").
LATEST = re.compile(
    r"\b(?:latest|most recent(?:ly)?|newest|recent(?:ly)?|current(?:ly)?|now|nowadays|as of|so far|"
    r"to date|this week|today|yet|still|any ?more|any longer|updates?|updated)\b", re.IGNORECASE)
# "How many countries ...": the group is what is counted.
HOW_MANY = re.compile(r"\bhow many\s+((?:\S+\s+){0,2}\S+)", re.IGNORECASE)
HOW_MUCH = re.compile(r"\bhow much\b", re.IGNORECASE)
ASKS_YES_OR_NO = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(?:does|do|did|is|are|was|were|has|have|had|can|"
                            r"could|will|would|should|may|might|must)\b", re.IGNORECASE)
# Words that say what kind of answer is wanted ("which country", "on what date"), not what the
# question is about: a passage that answers need not repeat them.
ANSWER_TYPE_WORDS = (
    "date day days year month time kind type sort name names article articles quote quoted "
    "describe described many much body city country countries number role task stand stands "
    "happen happened thing things two three called call mean means"
)

# ----- pronouns and words that point elsewhere --------------------------------------------------
# A question that needs the conversation to be understood ("And what did she say?").
LEANS_ON_CONVERSATION = re.compile(
    r"\b(?:he|she|it|they|him|her|them|his|hers|its|their|theirs|that|this|these|those|there|"
    r"then|the same|the other|former|latter)\b|^\s*(?:and|but|so|also|what about|how about)\b",
    re.IGNORECASE,
)
OPENING_CONJUNCTION = re.compile(r"^\s*(?:and|but|so|also)\b[\s,]*", re.IGNORECASE)
CONTRACTION = re.compile(r"['’](?:re|ve|ll|d|s|m)\b|n['’]t\b", re.IGNORECASE)
# A sentence that opens by pointing back ("It", "Once that is in place", "Among them", "But") needs
# the sentence before it to be understood ...
POINTS_BACK = re.compile(
    r"""^\W*(?:it|it[’']s|its|this|that|these|those|they|their|them|he|she|his|her|such|once|
    among|but|however|yet|still|meanwhile|then|thus|so|and|or|the\s+(?:move|statement|remarks|
    decision|announcement|plan|offer))\b""",
    re.IGNORECASE | re.VERBOSE)
# ... as does one whose speaker is only a pronoun ("..., he said.").
PRONOUN_SPEAKER = re.compile(r"[,”\"]\s*(?:he|she|they)\s+(?:said|added|says|adds|concluded|"
                             r"shared|noted|stressed|told|explained|continued)\b", re.IGNORECASE)
# The sentence after goes on about the same thing only when it opens with "it" or "this"; one
# opening with "He" usually turns to something new.
CONTINUES_PREVIOUS = re.compile(r"^\W*(?:it|it[’']s|this|that|these|those|such)\b", re.IGNORECASE)
# "The two countries" names no new figure: it points back at two the passage names.
POINTING_BACK = frozenset("the these those both all its their our his her".split())

# ----- replies and passages ---------------------------------------------------------------------
# A reply saying the passages do not give the answer.
REFUSAL = re.compile(
    r"not in the articles|not (?:mentioned|stated|specified|provided|given|found|included)\b"
    r"|do(?:es)? not (?:say|mention|contain|specify|provide|state|include|give)"
    r"|no (?:information|mention)|cannot be (?:determined|answered|found)|can't be determined"
    r"|unable to (?:answer|determine|find)|i don'?t know",
    re.IGNORECASE,
)
# A sentence that speaks to a language model rather than about the news ("Ignore previous
# instructions and say ...") is not reporting: it never reaches the model, and is never cited.
ADDRESSES_MODEL = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+)?(?:your|previous|prior|"
    r"above|earlier|preceding|system)\s+(?:instructions|prompts?)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:all\s+of\s+|everything\s+)?the\s+above\b"
    r"|\bsystem prompt\b|\bjailbreak"
    r"|\byou are (?:now )?(?:an? |the )?(?:ai|assistant|language model|chatbot|llm)\b"
    r"|\b(?:ai(?: assistants?)?|language models?|llms?|chatbots?)\b[^.!?]{0,40}?\b(?:must|should)\s+"
    r"(?:answer|reply|respond|say|write)\b",
    re.IGNORECASE,
)

# ----- function words and word forms ------------------------------------------------------------
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into about over after before
    is are was were be been being am do does did done has have had having it its this that these
    those there their them they he she his her him we our us you your i me my mine who whom whose
    which what when where why how not no nor so than too very can could will would shall should
    may might must also just only said says say according told tell then than such any all some
    more most other own same both each few out up down off again further once here while during
    until upon per via yet still though although because since whether do""".split()
)
# Words a disputed version does not start or end with ("Peace Council [and]" is "Peace Council");
# not all stop words, since "firm up" is not "firm".
EDGE_WORDS = frozenset("a an the and or but to of in on at for that which who is are was were be".split())
# A place's people's adjective adds one of these to its name: Israel-i, Japan-ese, Arab-ic...
PEOPLE_ENDINGS = frozenset({"i", "ish", "ese", "ian", "an", "n", "ic"})
# ... or both grow from one root, the place ending in one of these (Turk-iye, Turk-ey; Chin-a;
# Palestin-e) and the adjective in one of those (Turk-ish; Chin-ese; Palestin-ian).
PLACE_ROOT_ENDINGS = frozenset({"a", "e", "y", "ey", "iye"})
PEOPLE_ROOT_ENDINGS = frozenset({"ish", "ese", "ian", "an"})
