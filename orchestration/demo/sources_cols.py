"""Column lists of the Mailchimp audience files, derived from the registry (extras sit before LEID)."""

from __future__ import annotations

from orchestration.sources import (
    MAILCHIMP_AUDIENCE_COLUMNS,
    MAILCHIMP_CLEANED_EXTRA,
    MAILCHIMP_UNSUBSCRIBED_EXTRA,
)

AUDIENCE = list(MAILCHIMP_AUDIENCE_COLUMNS)
_AT = AUDIENCE.index("LEID")
UNSUBSCRIBED = AUDIENCE[:_AT] + MAILCHIMP_UNSUBSCRIBED_EXTRA + AUDIENCE[_AT:]
CLEANED = AUDIENCE[:_AT] + MAILCHIMP_CLEANED_EXTRA + AUDIENCE[_AT:]
