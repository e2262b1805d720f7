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
    out = emails.astype(f"U{emails.dtype.itemsize // 4 + 2}")  # room for the padding spaces
    messy = np.flatnonzero(kind != 0)  # only these are rewritten
    if len(messy) == 0:
        return out
    sub, k = emails[messy], kind[messy]
    title = np.strings.capitalize(sub)  # first letter only; then capitalise after '.' and '@'
    for sep in (".", "@"):
        head, s, tail = np.strings.partition(title, sep)
        title = np.where(s == "", title, cat(head, s, np.strings.capitalize(tail)))
    out[messy] = np.where(k == 1, title, np.where(k == 2, np.strings.upper(sub), cat(" ", title, " ")))
    return out


def phone_variants(rng: np.random.Generator, country: np.ndarray, national: np.ndarray) -> np.ndarray:
    """DK `20 12 34 56`, `20123456`, `+45 20123456`, `0045 20123456`, `+45 20 12 34 56`;
    SE `070-123 45 67`, `0701234567`, `+46 70 123 45 67`, `+46701234567`, `0046 70 123 45 67`."""
    nat = np.asarray(national).astype(str)
    kind = rng.integers(0, 5, len(nat))
    dk = np.asarray(country) == "DK"
    out = np.empty(len(nat), dtype="U17")
    s = np.strings.slice
    styles = {
        True: [lambda n: _dk_spaced(n), lambda n: n, lambda n: cat("+45 ", n), lambda n: cat("0045 ", n),
               lambda n: cat("+45 ", _dk_spaced(n))],
        False: [lambda n: cat("0", s(n, 0, 2), "-", s(n, 2, 5), " ", s(n, 5, 7), " ", s(n, 7, 9)),
                lambda n: cat("0", n), lambda n: cat("+46 ", _se_grouped(n)), lambda n: cat("+46", n),
                lambda n: cat("0046 ", _se_grouped(n))],
    }  # fmt: skip
    for is_dk, forms in styles.items():
        for k, form in enumerate(forms):  # each style built only for the rows that use it
            rows = np.flatnonzero((dk == is_dk) & (kind == k))
            if len(rows):
                out[rows] = form(nat[rows])
    return out


def _dk_spaced(n: np.ndarray) -> np.ndarray:
    s = np.strings.slice
    return cat(s(n, 0, 2), " ", s(n, 2, 4), " ", s(n, 4, 6), " ", s(n, 6, 8))


def _se_grouped(n: np.ndarray) -> np.ndarray:
    s = np.strings.slice
    return cat(s(n, 0, 2), " ", s(n, 2, 5), " ", s(n, 5, 7), " ", s(n, 7, 9))
