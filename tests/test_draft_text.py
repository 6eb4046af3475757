"""Stop strings, hold-back, unescaping and trimming, on synthetic text streams (no model)."""

from __future__ import annotations

import random

import pytest

from journal_tui.drafting.text import DraftText, IncrementalDecoder, trim_dangling


def run(chunks, reason="eos", *, hold_from=None):
    """Feed ``chunks``; return (deltas, Finished, stopped_at_chunk_index)."""
    t = DraftText()
    deltas, stopped_at = [], None
    for i, c in enumerate(chunks):
        if hold_from is not None and i >= hold_from:
            t.hold_sentences = True
        d = t.feed(c)
        if d:
            deltas.append(d)
        if t.stopped:
            stopped_at = i
            break
    fin = t.finish("stop" if t.stopped else reason)
    if fin.tail:
        deltas.append(fin.tail)
    return deltas, fin, stopped_at


def test_stop_string_cut_and_never_streamed():
    chunks = ["Slept", " well.", "\n", "<", "<journal 2026", "-11-30>>\nmore"]
    deltas, fin, at = run(chunks)
    assert fin.text == "Slept well."
    assert at == 4  # the chunk that completed "\n<<"
    assert "".join(deltas) == "Slept well."
    assert all("<" not in d and "\n" not in d for d in deltas)


def test_partial_stop_prefix_is_held_then_released():
    t = DraftText()
    assert t.feed("A day.") == "A day."
    assert t.feed("\n") == ""  # could start "\n<<"
    assert t.feed("<") == ""  # still could
    assert t.feed("3 apples") == "\n<3 apples"  # not a stop after all
    assert not t.stopped


def test_stop_string_split_inside_one_token():
    deltas, fin, _ = run(["The end.\n<", "<entry>>"])
    assert fin.text == "The end." and "".join(deltas) == "The end."


def test_draft_starting_with_a_marker_stops_at_once():
    # the prompt ends with a newline, so "<<" at the very start opens a new section
    deltas, fin, at = run(["<<", "notes>>"])
    assert fin.text == "" and deltas == [] and at == 0


def test_escaped_marker_is_unescaped_and_held_until_decided():
    t = DraftText()
    out = [t.feed(c) for c in ["Quote:\n", "\\", "<", "<not a section>>", " end."]]
    assert out[1] == "" and out[2] == ""  # "\\" and "\\<" could still become an escaped marker
    fin = t.finish("eos")
    assert fin.text == "Quote:\n<<not a section>> end."
    assert "".join(out) + fin.tail == fin.text
    assert not t.stopped


def test_backslash_line_that_is_not_a_marker_keeps_its_backslash():
    deltas, fin, _ = run(["a\n", "\\", "n is a newline."])
    assert fin.text == "a\n\\n is a newline."
    assert "".join(deltas) == fin.text


def test_whitespace_is_never_streamed_at_the_edges():
    deltas, fin, _ = run(["  \n", "Hello", " ", " ", "\n\n"])
    assert fin.text == "Hello"
    assert "".join(deltas) == "Hello"


def test_length_trims_dangling_sentence_and_hold_back_avoids_retraction():
    chunks = ["First one. ", "Second", " one! ", "Third is cut", " mid"]
    # hold-back on from the start of the third chunk (the last tokens of the budget)
    deltas, fin, _ = run(chunks, reason="length", hold_from=2)
    assert fin.text == "First one. Second one!"
    assert fin.retracted == ""
    assert "".join(deltas) == fin.text


def test_length_trim_retracts_when_the_sentence_began_before_the_window():
    deltas, fin, _ = run(["One. Two is a very", " long sentence", " that never ends"], reason="length", hold_from=2)
    assert fin.text == "One."
    assert "".join(deltas) == fin.text + fin.retracted
    assert fin.retracted.startswith(" Two is a very")


def test_eos_keeps_a_sentence_without_final_stop():
    deltas, fin, _ = run(["Walked home", " in the rain"], reason="eos")
    assert fin.text == "Walked home in the rain"
    assert "".join(deltas) == fin.text


def test_trailing_partial_stop_is_dropped_at_the_end():
    deltas, fin, _ = run(["Fine day.", "\n<"], reason="eos")
    assert fin.text == "Fine day." and "".join(deltas) == "Fine day."


@pytest.mark.parametrize(
    "text,expected",
    [
        ("One. Two", "One."),
        ("He said \u201cgo.\u201d Then", "He said \u201cgo.\u201d"),
        ("Done!", "Done!"),
        ("- milk\n- eggs and", "- milk"),
        ("no end at all", "no end at all"),
        ("Version 2.5 is out and", "Version 2.5 is out and"),
        ("Wait... and", "Wait..."),
    ],
)
def test_trim_dangling(text, expected):
    assert trim_dangling(text) == expected


def test_random_chunkings_keep_the_stream_invariant():
    rng = random.Random(7)
    pieces = ["Morning ", "run. ", "\n", "<", "3 ", "Sam", "!", " ", "\\", "<", "<x>>", "\n\n", "Tea. ",
              "\\\\", "<<y", " and", "\n", "<<", "journal"]
    for trial in range(300):
        cut = rng.randrange(len(pieces) + 1)
        text = "".join(pieces[:cut])
        chunks, i = [], 0
        while i < len(text):
            j = i + rng.randint(1, 4)
            chunks.append(text[i:j])
            i = j
        reason = rng.choice(["eos", "length", "cancelled"])
        deltas, fin, _ = run(chunks, reason=reason, hold_from=rng.randrange(len(chunks) + 1) if chunks else None)
        assert "".join(deltas) == fin.text + fin.retracted, (chunks, reason)
        raw = "".join(chunks)
        if "\n<<" in "\n" + raw:  # the text ends where the first section marker begins
            assert len(fin.text) <= len(raw[: ("\n" + raw).index("\n<<")].strip())


class FakeTokenizer:
    """Decodes byte-valued ids as UTF-8 (like byte-level BPE), U+FFFD for incomplete bytes."""

    def decode(self, ids, skip_special_tokens=True, clean_up_tokenization_spaces=False):
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")


def test_incremental_decoder_never_splits_a_character():
    tok = FakeTokenizer()
    text = "Café \u2014 na\u00efve \U0001f600 end"
    dec = IncrementalDecoder(tok)
    out = [dec.push(b) for b in text.encode("utf-8")]
    out.append(dec.flush())
    assert "".join(out) == text
    assert all("\ufffd" not in d for d in out)
