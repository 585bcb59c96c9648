"""Every word list the text analysis uses, in one place. None names anything from a particular corpus:
they are English function words, titles and calendar words."""
from __future__ import annotations

# Words that frame a question (or hedge a claim) but say nothing about its subject.
QUESTION_WORDS = frozenset({
    "who", "whom", "whose", "what", "when", "where", "why", "how", "which", "did", "does", "do",
    "tell", "say", "said", "according", "mention", "mentioned", "name", "named",
    "would", "could", "should", "might", "must", "shall", "may"})

# Capitalised words that start questions or sentences but name nobody.
NOT_NAMES = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "what", "who", "whom", "whose", "when", "where", "why",
    "how", "which", "did", "does", "do", "is", "are", "was", "were", "has", "have", "had", "can", "could",
    "will", "would", "should", "and", "but", "or", "if", "in", "on", "at", "of", "for", "to", "by", "with",
    "he", "she", "it", "they", "we", "i", "you", "his", "her", "their", "its", "our", "my", "your", "there",
    "after", "before", "since", "as", "so", "then", "also", "however", "meanwhile", "many", "some", "asked",
    "mr", "mrs", "ms", "dr", "tell", "give", "name", "list", "according", "said", "says", "now", "not",
    "it's", "we're", "i'm", "back", "earlier", "later", "today", "yesterday", "sources"})

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Capitalised words that sit next to a person's name without being part of it: titles and roles
# ("Foreign Minister Sergey Lavrov"), words that open the name of an institution, calendar words.
NOT_PERSON = frozenset({
    "president", "president-elect", "minister", "secretary", "senator", "speaker", "leader", "spokesman",
    "spokesperson", "director", "chairman", "official", "officials", "adviser", "general", "governor",
    "house", "senate", "department", "committee", "party", "government", "federation", "office",
    "national", "democratic", "republican", "united", "states", "news", "times", "post", "intelligence",
    "community", "majority", "foreign", "state", "former", "outgoing", "international", "business",
    *MONTHS, *WEEKDAYS})

# Number words a "how many/much" answer may use instead of digits.
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "dozens?", "hundreds?", "thousands?", "millions?", "billions?", "half", "several", "many", "few")
# Words that place something in time, for "when" answers.
TIME_WORDS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept?", "oct", "nov", "dec", "yesterday", "today",
              "tomorrow", "ago", "earlier", "later", "recently", "recent", r"last (week|month|year)",
              r"next (week|month|year)", r"(this|that) (week|month|year)", "morning", "evening", "night", "since",
              "before", "after", "during", "until")

# Words that open a sentence leaning on the one before: "It appoints the Commissioners", "This was..."
BACK_REFERENCES = frozenset({"he", "she", "it", "they", "this", "these", "that", "those", "his", "her", "its",
                             "their", "such", "both"})

# Short answers ("how many": "5 million", "when": "late 1990s", "where": "in Paris").
NUMBER_SCALES = ("hundred", "thousand", "million", "billion", "trillion")
VAGUE_AMOUNTS = frozenset({"several", "many", "few"})  # count words too vague to be a short answer
ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                 "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                 "eighteenth", "nineteenth", "twentieth", "twenty-first")
SEASONS = ("spring", "summer", "autumn", "fall", "winter")
# Prepositions that put a place after them: "born in Warsaw", "moved to Lisbon".
PLACE_PREPOSITIONS = frozenset({"in", "at", "near", "from", "into", "to", "across", "throughout", "outside",
                                "inside", "within", "around", "towards", "toward", "off", "of"})
