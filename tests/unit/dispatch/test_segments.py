"""SMS length: 70 UCS-2 units in one part, 67 per part beyond, the signature included."""

from services.dispatch.domain.segments import count_parts, displayed_text, split_parts


def test_seventy_characters_are_one_part_and_seventy_one_are_two():
    assert count_parts("停" * 70) == 1
    assert count_parts("停" * 71) == 2
    assert [len(p) for p in split_parts("停" * 71)] == [67, 4]


def test_parts_hold_sixty_seven_characters_each_when_concatenated():
    assert count_parts("停" * 134) == 2
    assert count_parts("停" * 135) == 3


def test_the_signature_counts_toward_the_length():
    text = "停" * 64
    assert count_parts(text) == 1
    assert displayed_text("国网城东供电公司", text).startswith("【国网城东供电公司】")
    assert count_parts(displayed_text("国网城东供电公司", text)) == 2


def test_a_character_outside_the_bmp_takes_two_units_and_is_never_cut():
    text = "停" * 66 + "😀" + "停" * 3  # 71 units: concatenated parts of 67
    parts = split_parts(text)
    assert parts == ["停" * 66, "😀停停停"]
    assert count_parts("停" * 69 + "😀") == 2


def test_an_empty_text_has_no_parts():
    assert count_parts("") == 0
