"""How people and tools write identifiers: e-mail case/whitespace variants and phone number styles."""

from __future__ import annotations

import numpy as np

from orchestration.demo.strs import cat

JUNK_EMAIL = "test@test.com"
JUNK_PHONE = "00000000"


def email_variants(rng: np.random.Generator, emails: np.ndarray, p_mess: float = 0.2) -> np.ndarray:
    """Mostly as stored; some Title.Cased (` Anna.Hansen@Gmail.Com `), upper-cased or padded with spaces."""
    emails = np.asarray(emails).astype(str)
    kind = rng.choice(4, size=len(emails), p=[1 - p_mess, p_mess * 0.5, p_mess * 0.2, p_mess * 0.3])
    out = emails.copy()
    title = np.strings.capitalize(emails)  # first letter only; then capitalise after '.' and '@'
    for sep in (".", "@"):
        head, s, tail = np.strings.partition(title, sep)
        title = np.where(s == "", title, cat(head, s, np.strings.capitalize(tail)))
    out = np.where(kind == 1, title, out)
    out = np.where(kind == 2, np.strings.upper(emails), out)
    out = np.where(kind == 3, cat(" ", title, " "), out)
    return out


def phone_variants(rng: np.random.Generator, country: np.ndarray, national: np.ndarray) -> np.ndarray:
    """DK `20 12 34 56`, `20123456`, `+45 20123456`, `0045 20123456`, `+45 20 12 34 56`;
    SE `070-123 45 67`, `0701234567`, `+46 70 123 45 67`, `+46701234567`, `0046 70 123 45 67`."""
    nat = np.asarray(national).astype(str)
    kind = rng.integers(0, 5, len(nat))
    s = np.strings.slice
    dk_spaced = cat(s(nat, 0, 2), " ", s(nat, 2, 4), " ", s(nat, 4, 6), " ", s(nat, 6, 8))
    dk = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3],
        [dk_spaced, nat, cat("+45 ", nat), cat("0045 ", nat)],
        cat("+45 ", dk_spaced),
    )
    se_grouped = cat(s(nat, 0, 2), " ", s(nat, 2, 5), " ", s(nat, 5, 7), " ", s(nat, 7, 9))
    se = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3],
        [cat("0", s(nat, 0, 2), "-", s(nat, 2, 5), " ", s(nat, 5, 7), " ", s(nat, 7, 9)),
         cat("0", nat), cat("+46 ", se_grouped), cat("+46", nat)],
        cat("0046 ", se_grouped),
    )  # fmt: skip
    return np.where(np.asarray(country) == "DK", dk, se)
