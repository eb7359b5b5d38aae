"""The core's fast paths against the plain code they stand in for: the same answer on any
input (``processors.draft.utc_text_ms`` vs strptime, ``alert_id_for`` vs ``uuid.uuid5``)."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from processors.draft import utc_text_ms
from schemas.normalized import ALERT_ID_NAMESPACE, RawRef, alert_id_for


def strptime_ms(value: object) -> int | None:
    """The reference: strptime of the first 19 characters, as UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.strptime(value.strip()[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return int(parsed.replace(tzinfo=dt.UTC).timestamp() * 1000)


def canonical(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0")


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)))
def test_the_zero_padded_form_reads_as_strptime_reads_it(moment: dt.datetime) -> None:
    text = canonical(moment)
    assert utc_text_ms(text) == strptime_ms(text)


@given(
    st.datetimes()
    .map(canonical)
    .flatmap(
        lambda text: st.sampled_from(
            [
                text,
                f" {text}.25 ",
                text.replace("-0", "-", 1),  # not zero-padded: strptime's path
                text.replace(" ", "T"),
                text[:-2] + "60",  # out of range
                text.replace("0", "\u0660"),  # a non-ASCII digit (Arabic-Indic zero)
            ]
        )
    )
    | st.text(alphabet="0123456789-: T.", max_size=24)
    | st.none()
    | st.integers()
)
def test_any_text_reads_as_strptime_reads_it(value: object) -> None:
    assert utc_text_ms(value) == strptime_ms(value)


@given(st.text(max_size=40), st.integers(0, 2**31), st.integers(0, 2**63), st.integers(0, 999))
def test_alert_ids_are_uuid5(topic: str, partition: int, offset: int, index: int) -> None:
    name = f"{topic}/{partition}/{offset}/{index}"
    expected = str(uuid.uuid5(ALERT_ID_NAMESPACE, name))
    assert alert_id_for(RawRef(topic, partition, offset), index) == expected
