"""What the alerts pages say of a curfew episode: while the wearer is away, when they came home, and when a
reading received later showed them home in time (not the zone's wording)."""

from openem.alerts.words import episode_words


def _ep(**kw):
    return {"kind": "curfew_not_home", "state": "open", "closed_reason": None, "measure": {}, **kw}


def test_open_curfew_episode_says_how_long_the_wearer_has_been_away() -> None:
    assert (
        episode_words(_ep(measure={"minutes_away": 40.0}))
        == "Still open: away for 40 minutes since the curfew start"
    )


def test_closed_at_the_return_says_it_once() -> None:
    text = episode_words(_ep(state="closed", closed_reason="returned",
                             measure={"minutes_away": 75.0, "minutes_late": 75.0, "minutes_beyond_grace": 70.0}))  # fmt: skip
    assert text == (
        "Closed (the wearer returned): 1 hour 15 minutes after the curfew start, 1 hour 10 minutes beyond the "
        "grace period"
    )


def test_not_confirmed_curfew_episode_speaks_of_the_reading_not_of_a_zone() -> None:
    text = episode_words(_ep(state="closed", closed_reason="not_confirmed", measure={"minutes_away": 5.0}))
    assert "home in time" in text and "zone" not in text
    zone = episode_words({"kind": "exclusion_possible", "state": "closed", "closed_reason": "not_confirmed"})
    assert "zone" in zone


def test_device_and_proximity_episodes_say_why_they_closed_and_for_how_long() -> None:
    prox = episode_words({"kind": "proximity", "state": "closed", "closed_reason": "apart",
                          "measure": {"minutes_within": 10.0, "closest_m": 299.84, "apart_m": 1500.0}})  # fmt: skip
    assert prox == (
        "Closed (the wearer and the victim were apart again): 10 minutes within the victim's ring, "
        "300 metres at the closest"
    )
    silent = episode_words({"kind": "no_comms", "state": "closed", "closed_reason": "contact_again",
                            "measure": {"hours_unmonitored": 3.0}})  # fmt: skip
    assert silent == "Closed (the device was heard from again): unmonitored for 3 hours"
    strap = episode_words({"kind": "strap_tamper", "state": "closed", "closed_reason": "restored",
                           "measure": {"minutes_open": 25.0}})  # fmt: skip
    assert strap == "Closed (the device reported it restored): open for 25 minutes"
    battery = episode_words({"kind": "low_battery", "state": "closed", "closed_reason": "charged",
                             "measure": {"minutes_low": 75.0, "level_pct": 16.0}})  # fmt: skip
    assert battery == "Closed (the device was put on charge): battery low for 1 hour 15 minutes"
