"""Every word list the text analysis uses, in one place: English function words, honorifics and calendar
words. None names anything from a particular corpus (the short answer and the choice of sentences are the
trained reader's, not word lists')."""
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

# Words that open a sentence leaning on the one before: "It appoints the Commissioners", "This was..."
BACK_REFERENCES = frozenset({"he", "she", "it", "they", "this", "these", "that", "those", "his", "her", "its",
                             "their", "such", "both"})
