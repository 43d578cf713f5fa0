"""Domain services: verb_noun functions that change the session and flush, never commit."""
