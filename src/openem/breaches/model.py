"""Responses to a breach as a small state machine per agency (pure).

Police follow RADU: receive, assess, decide, update (tell the monitoring centre the decision). Probation and
youth justice: receive, decide (engage / warning / adjust conditions / recall or return to court), close. The
Home Office: receive, decide (its outcomes), close. Courts (bail breaches only, after the police decided):
a court decision (same conditions, amended, remanded). Steps come in order, each once."""

from __future__ import annotations

from dataclasses import dataclass

STEPS: dict[str, tuple[str, ...]] = {
    "police": ("receive", "assess", "decide", "update"),
    "probation": ("receive", "decide", "close"),
    "youth_justice": ("receive", "decide", "close"),
    "home_office": ("receive", "decide", "close"),
    "court": ("court_decision",),
}
DECISIONS: dict[str, tuple[str, ...]] = {
    "police": ("arrest", "summons", "words_of_advice", "no_further_action"),
    "probation": ("engage", "warning", "adjust_conditions", "recall", "return_to_court", "no_further_action"),
    "youth_justice": ("engage", "warning", "adjust_conditions", "return_to_court", "no_further_action"),
    "home_office": (
        "adjust_bail",
        "prioritise_casework",
        "detention",
        "arrest",
        "prosecution",
        "no_further_action",
    ),  # fmt: skip
    "court": ("same_conditions", "amended_conditions", "remanded"),
}
#: the step whose recording is the breach's outcome (the clocks' last stage)
OUTCOME_STEP = {"police": "update", "probation": "close", "youth_justice": "close", "home_office": "close",
                "court": "court_decision"}  # fmt: skip
DECISION_STEP = {"police": "decide", "probation": "decide", "youth_justice": "decide", "home_office": "decide",
                 "court": "court_decision"}  # fmt: skip
LABELS = {
    "receive": "Received", "assess": "Assessed", "decide": "Decided", "update": "Monitoring centre updated",
    "close": "Outcome recorded", "court_decision": "Court decision", "arrest": "Arrest",
    "summons": "Summons", "words_of_advice": "Words of advice", "no_further_action": "No further action",
    "engage": "Engage", "warning": "Formal warning", "adjust_conditions": "Adjust conditions",
    "recall": "Recall to prison", "return_to_court": "Return to court", "adjust_bail": "Adjust bail",
    "prioritise_casework": "Prioritise casework", "detention": "Detention", "prosecution": "Prosecution",
    "same_conditions": "Bailed again on the same conditions", "amended_conditions": "Bailed on amended conditions",
    "remanded": "Remanded in custody",
}  # fmt: skip


class ResponseRefused(ValueError):
    """A response that cannot be recorded: `code` says why (wrong_agency, duplicate, out_of_order, invalid)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Recorded:
    agency: str
    step: str
    value: str


def check_response(breach_agency: str, template: str, responder_agency: str, step: str, value: str,
                   history: list[Recorded]) -> None:  # fmt: skip
    """Refuse (ResponseRefused) a response that is not the responder's to give or not next in order."""
    if responder_agency not in STEPS:
        raise ResponseRefused(
            "wrong_agency", f"{responder_agency or 'your organisation'} does not respond to breaches"
        )
    if responder_agency == "court":
        if template != "bail" or breach_agency != "police":
            raise ResponseRefused("wrong_agency", "courts record decisions on court bail breaches only")
        if not any(r.agency == "police" and r.step == "decide" for r in history):
            raise ResponseRefused("out_of_order", "the court decides after the police have decided")
    elif responder_agency != breach_agency:
        raise ResponseRefused("wrong_agency", f"this breach is for {breach_agency.replace('_', ' ')}, not "
                                              f"{responder_agency.replace('_', ' ')}")  # fmt: skip
    steps = STEPS[responder_agency]
    if step not in steps:
        raise ResponseRefused("invalid", f"unknown step {step[:40]!r}; one of {', '.join(steps)}")
    done = [r.step for r in history if r.agency == responder_agency]
    if step in done:
        raise ResponseRefused("duplicate", f"{LABELS[step]} was already recorded for this breach")
    expected = steps[len(done)] if len(done) < len(steps) else None
    if step != expected:
        raise ResponseRefused("out_of_order", f"{LABELS[step]} comes after "
                                              f"{LABELS[steps[steps.index(step) - 1]]}")  # fmt: skip
    if step == DECISION_STEP[responder_agency]:
        if value not in DECISIONS[responder_agency]:
            raise ResponseRefused("invalid", f"choose a decision: {', '.join(DECISIONS[responder_agency])}")
    elif value:
        raise ResponseRefused("invalid", f"{LABELS[step]} takes no decision value")
