import json
import logging

import pytest

from shared.observability import JsonFormatter, current_outage, mask_phones


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("call 13812345678 now", "call 138****5678 now"),
        ("+8613912345678", "+86139****5678"),
        ("8613912345678", "86139****5678"),
        ("order 1234567890123456 stays", "order 1234567890123456 stays"),
        ("account A00001234", "account A00001234"),
    ],
)
def test_mobile_numbers_are_masked_and_other_digits_are_not(raw, masked):
    assert mask_phones(raw) == masked


def test_a_json_log_line_carries_the_outage_and_never_a_full_number():
    record = logging.LogRecord(
        "dispatch", logging.INFO, __file__, 1, "sent to %s", ("13812345678",), None
    )
    token = current_outage.set("OUT-20261206-0001")
    try:
        line = json.loads(JsonFormatter("dispatch").format(record))
    finally:
        current_outage.reset(token)
    assert line["outage_id"] == "OUT-20261206-0001"
    assert line["message"] == "sent to 138****5678"
    assert line["service"] == "dispatch"
