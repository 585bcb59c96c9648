"""Text analysis shared by the answerers and follow-up rewriting: terms, sentences, names, numbers, dates."""
