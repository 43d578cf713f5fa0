"""STOP, START and HELP: what an incoming text asks for, in English or Spanish, as a keyword or in plain words."""
from __future__ import annotations

import re
import unicodedata

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"

# Twilio's and the carriers' standard keywords, plus a few common Spanish ones.
OPT_OUT_WORDS = frozenset({
    "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "opt out",
    "para", "parar", "alto", "detener", "cancelar", "baja",
})
OPT_IN_WORDS = frozenset({"start", "yes", "unstop", "optin", "opt in", "si", "comenzar", "iniciar"})
# Words that mean "opt back in" only for someone who opted out; from anyone else they are a normal reply.
CONVERSATIONAL_OPT_IN = frozenset({"yes", "si"})
HELP_WORDS = frozenset({"help", "info", "ayuda"})

_TEXTS = r"(?:texts?|text messages?|messages?|sms|msgs?)"
_PLAIN_OPT_OUT = [
    # English: "stop texting me", "please stop sending me messages", "don't text me anymore", "no more texts"
    rf"(?:please )?(?:stop|quit|cease) (?:texting|messaging|sending|sending me {_TEXTS}|sending {_TEXTS})"
    rf"(?: me)?(?: {_TEXTS})?(?: any ?more)?(?: please)?",
    r"(?:please )?(?:do not|dont|don't|never) (?:text|message) me(?: again| any ?more)?(?: please)?",
    rf"(?:please )?(?:i )?(?:do not|dont|don't) (?:want|need) (?:any )?(?:more )?{_TEXTS}(?: any ?more)?",
    rf"(?:please )?no more {_TEXTS}(?: please)?",
    r"(?:please )?(?:unsubscribe|remove) me(?: from (?:this|these|your|the) (?:list|texts|messages))?(?: please)?",
    r"(?:please )?(?:stop|unsubscribe|opt out|cancel)(?: please)?",
    # Spanish: "no me envies mas mensajes", "deja de mandarme mensajes", "ya no quiero mensajes"
    rf"(?:por favor )?(?:ya )?no me (?:envies|envien|mandes|manden|escribas|escriban) mas(?: {_TEXTS}|"
    r" mensajes| textos)?(?: por favor)?",
    r"(?:por favor )?(?:deja|dejen|dejar) de (?:enviarme|mandarme|escribirme)(?: mensajes| textos)?(?: por favor)?",
    r"(?:por favor )?ya no (?:quiero|deseo) (?:recibir )?(?:mas )?(?:mensajes|textos)",
    r"(?:por favor )?no mas (?:mensajes|textos)(?: por favor)?",
]
_PLAIN_OPT_OUT_RE = re.compile("^(?:" + "|".join(_PLAIN_OPT_OUT) + ")$")
SPANISH_WORDS = frozenset({"para", "parar", "alto", "detener", "cancelar", "baja", "si", "comenzar", "iniciar",
                           "ayuda"})
_SPANISH_PHRASE_RE = re.compile(r"\b(?:por favor|no me|deja|dejen|dejar|ya no|no mas|mensajes|textos)\b")


def normalize(body: str) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed: 'Stop!! ' -> 'stop', 'Sí.' -> 'si'."""
    text = unicodedata.normalize("NFKD", body or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("\u2019", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def classify(body: str) -> str | None:
    """OPT_OUT, OPT_IN or HELP when the whole text asks for that; None for anything else (a normal reply)."""
    text = normalize(body)
    if not text or len(text) > 80:
        return None
    if text in OPT_OUT_WORDS or _PLAIN_OPT_OUT_RE.match(text):
        return OPT_OUT
    if text in OPT_IN_WORDS:
        return OPT_IN
    if text in HELP_WORDS:
        return HELP
    return None


def is_conversational(body: str) -> bool:
    """Whether an opt-in word ('yes', 'sí') is also an ordinary answer when the sender never opted out."""
    return normalize(body) in CONVERSATIONAL_OPT_IN


def language_of(body: str) -> str:
    """'es' when a keyword text is Spanish ('PARA', 'no me envíes más mensajes'), else 'en'."""
    text = normalize(body)
    return "es" if text in SPANISH_WORDS or _SPANISH_PHRASE_RE.search(text) else "en"
