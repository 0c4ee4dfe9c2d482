"""The credential rule (docs/contract.md, "Secrets never stored") as the one RE2
pattern the Collector's transform/redact applies, written from
observability/credential-redaction.json.

OTTL cannot percent-decode, so the pattern spells every letter of every listed
name both as itself and as its %XX escapes: it matches exactly the parameters
whose name a form decoder reads as a listed name. Its first group ends
at the '='; `${1}REDACTED` keeps the name and drops the value.

    python3 -m tools.credential_pattern           # the pattern
    python3 -m tools.credential_pattern --ottl    # as written inside an OTTL string
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RULE_FILE = Path(__file__).resolve().parents[1] / "observability" / "credential-redaction.json"

START = r"(?:^|[?&;#])"  # a parameter starts the text or follows one of these
NAME_CHAR = r"[^=&;#?\t\n\f\r ]"  # up to its '=': no separator, no ASCII white space
BRACKET = r"(?:[\[\]]|%5[bBdD])"
SPACE = r"(?:[+]|%(?:0[9aAcCdD]|20))"  # '+' and the escapes of ASCII white space
VALUE = r"[^&\t\n\f\r ]*"  # to the next '&' or white space


def credential_names(path: Path = RULE_FILE) -> list[str]:
    return json.loads(path.read_text())["names"]


def _either_case_hex(digit: str) -> str:
    return f"[{digit.lower()}{digit.upper()}]" if digit.isalpha() else digit


def _char(char: str) -> str:
    """One character of a name: itself (either case for a letter) or its escape."""
    code = ord(char)
    if char.isascii() and char.isalpha():
        lower, upper = ord(char.lower()), ord(char.upper())
        escape = f"%[{upper >> 4:X}{lower >> 4:X}]{_either_case_hex(f'{code & 0xF:X}')}"
        return f"(?:[{char.lower()}{char.upper()}]|{escape})"
    if char in "_-":
        high, low = f"{code:02X}"
        return f"(?:{char}|%{high}{_either_case_hex(low)})"
    raise ValueError(f"no escape rule for {char!r}: names hold ASCII letters, '_' and '-'")


def pattern(names: list[str]) -> str:
    alternatives = "|".join("".join(_char(char) for char in name) for name in names)
    return (f"({START}(?:{NAME_CHAR}*{BRACKET})?{SPACE}*(?:{alternatives}){SPACE}*"
            f"(?:{BRACKET}{NAME_CHAR}*)?=){VALUE}")


def ottl_string(text: str) -> str:
    """`text` as the inside of an OTTL string literal (Go's quoting rules)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


if __name__ == "__main__":
    generated = pattern(credential_names())
    print(ottl_string(generated) if "--ottl" in sys.argv[1:] else generated)
