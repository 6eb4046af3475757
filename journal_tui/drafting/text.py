"""Text side of drafting: stop strings, streaming hold-back, unescaping and trimming.

No torch here: everything works on plain strings, so the rules are unit-tested with synthetic
token streams.

Rules (issue 5):

* Generation stops at EOS or where a stop string begins (``template.STOP_STRINGS``, the start of
  a new ``<<...>>`` section). The prompt ends with a newline, so a draft that *begins* with
  ``<<`` stops too: matching runs over ``"\\n" + raw``.
* The stop string never reaches the output, not even a prefix of it: while the raw text ends
  with a proper prefix of a stop string (``"\\n"``, ``"\\n<"``), that tail is held back.
* Output is :func:`journal_tui.dataset.template.unescape`\\d. A line that so far is only
  backslashes, optionally followed by one ``<``, could still become an escaped marker, so it is
  held back too; once the line is decided, unescaping a longer prefix never changes the text
  already sent.
* Leading and trailing whitespace are never sent (the final text is stripped), so the deltas
  always add up to a prefix of the final text.
* ``finish_reason == "length"``: the final text loses a dangling partial sentence
  (:func:`trim_dangling`). Near the end of the token budget the caller turns on
  ``hold_sentences`` so text after the last sentence end is held back and trimming rarely has to
  take back streamed text; when it must (a sentence longer than the hold-back window), the
  retracted characters are reported in :attr:`Finished.retracted`. Invariant, always:
  ``"".join(deltas) == finished.text + finished.retracted``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from journal_tui.dataset.template import STOP_STRINGS, unescape

# A sentence ends at . ! ? or … (optionally followed by closing quotes or brackets) before
# whitespace or the end of the text; the end of a line also ends a unit (Markdown lists, lines).
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s|$)|\n")
_UNDECIDED_LINE = re.compile(r"\\+<?")


def trim_dangling(text: str) -> str:
    """Cut ``text`` after its last complete sentence (see ``_SENTENCE_END``) and strip it.

    Returns ``text`` stripped and unchanged when it already ends a sentence, or when it has no
    sentence end at all (an empty draft helps nobody; the person edits the fragment instead).
    """
    text = text.rstrip()
    last = None
    for m in _SENTENCE_END.finditer(text):
        last = m
    if last is None:
        return text
    return text[: last.end()].rstrip()


def _last_sentence_end(text: str) -> int:
    last = 0
    for m in _SENTENCE_END.finditer(text):
        last = m.end()
    return last


@dataclass(frozen=True)
class Finished:
    """The end of one draft's text.

    Attributes:
        text: the final draft (unescaped, stripped, trimmed when finish_reason is "length").
        tail: characters not yet streamed that complete ``text`` (send them as a last delta).
        retracted: characters already streamed that are not part of ``text`` (usually "").
    """

    text: str
    tail: str
    retracted: str


class DraftText:
    """Accumulates raw generated text and decides what may be streamed.

    Args:
        stop_strings: strings that end the draft where they begin (default: the template's).

    Usage: call :meth:`feed` with each raw text delta (the model's own text, still escaped); send
    what it returns; stop generating once :attr:`stopped` is true; then call :meth:`finish`.
    """

    def __init__(self, stop_strings: tuple[str, ...] = STOP_STRINGS) -> None:
        self.stop_strings = tuple(s for s in stop_strings if s)
        self._max_stop = max((len(s) for s in self.stop_strings), default=0)
        self.raw = ""  # raw text so far (cut at the stop string once one is seen)
        self.emitted = ""  # unescaped text already handed out
        self._emitted_raw = 0  # raw prefix length that ``emitted`` stands for
        self.stopped = False
        self.hold_sentences = False

    # -- streaming ---------------------------------------------------------------------------
    def feed(self, delta: str) -> str:
        """Add a raw delta; return the text that may be sent now ("" if nothing)."""
        if self.stopped or not delta:
            return ""
        start = max(0, len(self.raw) + 1 - self._max_stop)  # earliest new match in "\n"+raw
        self.raw += delta
        ctx = "\n" + self.raw
        hits = [i for i in (ctx.find(s, start) for s in self.stop_strings) if i >= 0]
        if hits:
            self.raw = self.raw[: max(min(hits) - 1, 0)]
            self.stopped = True
            return self._advance(self._safe_end(final=True))
        return self._advance(self._safe_end(final=False))

    def _safe_end(self, *, final: bool) -> int:
        raw = self.raw
        b = len(raw)
        if not final:
            ctx = "\n" + raw
            for s in self.stop_strings:
                for k in range(min(len(s) - 1, len(ctx)), 0, -1):
                    if ctx.endswith(s[:k]):
                        b = min(b, max(len(raw) - k, 0))
                        break
            line_start = raw.rfind("\n", 0, b) + 1
            if _UNDECIDED_LINE.fullmatch(raw[line_start:b]):
                b = line_start
        b = len(raw[:b].rstrip())
        if self.hold_sentences and not final:
            b = min(b, _last_sentence_end(raw[:b]))
        return max(b, self._emitted_raw)

    def _advance(self, b: int) -> str:
        if b <= self._emitted_raw:
            return ""
        cand = unescape(self.raw[:b]).strip()
        if not cand.startswith(self.emitted):  # cannot happen by construction; never send garbage
            raise AssertionError(f"stream prefix changed: {self.emitted!r} -> {cand!r}")
        delta = cand[len(self.emitted) :]
        self.emitted = cand
        self._emitted_raw = b
        return delta

    # -- end ---------------------------------------------------------------------------------
    def finish(self, finish_reason: str) -> Finished:
        """Close the draft. ``finish_reason``: eos | stop | length | cancelled.

        A trailing partial stop string (e.g. a last line ``"<"``) is dropped; on "length" the
        dangling sentence is trimmed (:func:`trim_dangling`).
        """
        raw = self.raw
        if not self.stopped:
            ctx = "\n" + raw
            for s in self.stop_strings:
                for k in range(min(len(s) - 1, len(ctx)), 1, -1):  # k=1 is a bare newline
                    if ctx.endswith(s[:k]):
                        raw = raw[: max(len(raw) - k, 0)]
                        break
        text = unescape(raw).strip()
        if finish_reason == "length":
            text = trim_dangling(text)
        if text.startswith(self.emitted):
            return Finished(text=text, tail=text[len(self.emitted) :], retracted="")
        if self.emitted.startswith(text):
            return Finished(text=text, tail="", retracted=self.emitted[len(text) :])
        raise AssertionError(f"final text {text!r} does not extend or prefix the streamed {self.emitted!r}")


class IncrementalDecoder:
    """Token ids -> text deltas, without splitting multi-byte characters.

    Decodes a short window of ids (the method of Hugging Face text-generation-inference's
    ``decode_token``): a delta is released only when the window's text grew and does not end in
    U+FFFD (an incomplete UTF-8 sequence). Special tokens are skipped.

    Args:
        tokenizer: a Hugging Face tokenizer (anything with ``decode(ids, ...)``).
    """

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self._prefix = 0
        self._read = 0

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def push(self, token_id: int) -> str:
        """Add one generated token id; return the new text ("" while a character is incomplete)."""
        self.ids.append(int(token_id))
        prefix_text = self._decode(self.ids[self._prefix : self._read])
        new_text = self._decode(self.ids[self._prefix :])
        if len(new_text) > len(prefix_text) and not new_text.endswith("\ufffd"):
            delta = new_text[len(prefix_text) :]
            self._prefix = self._read
            self._read = len(self.ids)
            return delta
        return ""

    def flush(self) -> str:
        """Whatever is still pending at the end (may hold U+FFFD for a truncated character)."""
        prefix_text = self._decode(self.ids[self._prefix : self._read])
        new_text = self._decode(self.ids[self._prefix :])
        self._prefix = self._read = len(self.ids)
        return new_text[len(prefix_text) :] if len(new_text) > len(prefix_text) else ""
