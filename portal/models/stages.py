"""The fixed, ordered vocabulary of case stages, with what each means for a family."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Stage:
    """One stage: its key, a short label, what it means, what comes next and the usual wait."""

    key: str
    label: str
    explanation: str
    next_step: str
    typical_wait: str


STAGES: tuple[Stage, ...] = (
    Stage(
        "opened",
        _l("Case opened"),
        _l("We have opened a case about the death of your loved one. A liaison officer is now your contact. "
           "They will keep you up to date."),
        _l("Your liaison will call you to say hello and answer your questions."),
        _l("Most often in 1 or 2 days."),
    ),
    Stage(
        "awaiting_toxicology",
        _l("Waiting for lab results"),
        _l("The medical examiner and the lab are running tests. The tests show which drugs caused the death."),
        _l("When the results come back, detectives use them to plan the next steps."),
        _l("Often 6 to 12 weeks."),
    ),
    Stage(
        "investigating",
        _l("Detectives are looking into the case"),
        _l("Detectives are working to find out who sold or gave the drugs. They talk to people, look at phones "
           "and follow tips. What you tell us can help."),
        _l("If detectives find the person who supplied the drugs, the case moves to the next step."),
        _l("Often a few months."),
    ),
    Stage(
        "suspect_identified",
        _l("A suspect has been found"),
        _l("Detectives think they know who supplied the drugs. Now they are collecting the proof a prosecutor "
           "will need."),
        _l("Detectives send the case to the prosecutor."),
        _l("Often 1 to 3 months."),
    ),
    Stage(
        "referred_to_prosecutor",
        _l("Sent to the prosecutor"),
        _l("The case is with the prosecutor's office. A prosecutor reads the proof and decides if they can "
           "file charges."),
        _l("The prosecutor files charges or tells us why not."),
        _l("Often 1 to 3 months."),
    ),
    Stage(
        "charges_filed",
        _l("Charges have been filed"),
        _l("The prosecutor has charged a person in connection with the death."),
        _l("The case goes to court. Your liaison will tell you about court dates."),
        _l("The court sets the dates."),
    ),
    Stage(
        "prosecution_declined",
        _l("The prosecutor did not file charges"),
        _l("The prosecutor looked at the case and decided not to file charges for now. Often this is because "
           "there is not yet enough proof for court. It does not mean your loved one's death does not matter. "
           "The case can be looked at again if new facts come in."),
        _l("You can ask for a meeting to talk about this decision."),
        _l("You can ask for a meeting at any time."),
    ),
    Stage(
        "in_court",
        _l("In court"),
        _l("The case is in court. There may be hearings, a plea deal or a trial."),
        _l("Your liaison will tell you about each court date and what it means."),
        _l("Court cases often take many months."),
    ),
    Stage(
        "closed",
        _l("Case closed"),
        _l("The case is closed. You can still reach your liaison and read everything here."),
        _l("Nothing more is planned. Reach out to your liaison at any time."),
        _l("There is no more waiting."),
    ),
)

STAGE_KEYS: tuple[str, ...] = tuple(stage.key for stage in STAGES)
STAGES_BY_KEY: dict[str, Stage] = {stage.key: stage for stage in STAGES}


def stage_info(key: str) -> Stage:
    """The Stage for a key; raises KeyError for a key outside the vocabulary."""
    return STAGES_BY_KEY[key]
