"""Demo export generator: a seeded, vectorised simulation of a Danish/Swedish retailer's customers that
writes every channel's daily exports into the landing folder, plus the ground truth for evaluation.

    from orchestration.demo import generate
    generate(persons=2000, days=28, start=date(2026, 10, 1), seed=42, landing_dir=..., truth_dir=...)

How a person's identifiers link (as a retailer's data does; the warehouse only sees these records):
- the app requires an account (an account needs an e-mail): its first session logs in, and an installed
  app stays logged in; GA4 `user_id` is the webshop login id (`site_user_id`);
- account holders' browsers mostly remember them (80% of cookies) and member prices, the wish list and
  checkout ask for the login (60% of visits of an unknown browser; 85% at checkout);
- the webshop account export (canonical identifier links, `source = webshop_accounts`, one file a day:
  the full list on the first day, then new accounts and added phone numbers) links the login id to the
  account's e-mail, phone and customer id; a quarter of guests create an account at checkout;
- a web or app order's GA4 `purchase` event carries the Shopify order name as
  `ecommerce.transaction_id` (identifier type `order_ref`, `#1001` -> `1001`);
- Mailchimp's tracked links append `utm_*`, `mc_cid` and `mc_eid` (the member's EUID) to the landing page;
- people without an e-mail address rarely browse the shop (15% of the visit rate): they buy in stores;
- store visits go mostly (80%) to the customer's home store; a till customer profile exists for club
  members and for buyers who asked for a digital receipt (Square then recognises their card and attaches
  the profile); Square's customer directory (canonical identifier links, `source = square_customers`,
  once per customer seen at a till in the run) carries the e-mail / phone they gave, or only a name;
- a club sign-up needs an e-mail address or a mobile number; a help-desk requester has the address they
  wrote from or the number they called from; an NPS survey goes to a known address or number.
What stays anonymous, on purpose: browsers of guests who neither log in, click an e-mail nor buy in the
period, sessions that declined analytics consent (not exported at all), and card fingerprints (card
brand + PAN suffix + store) of till payments without any customer id. They are in the truth (they were
emitted) and each stays apart: on the default demo 290 card fingerprints and 81 web devices end up in
no person's main cluster, which is why recall is 0.930 while recall on the pairs records connect (the
linkable upper bound of `omni evaluate-identity`) is 1.0.
"""

from __future__ import annotations

import datetime as dt

from orchestration.demo.generator import delivery_plan, generate

DEFAULT_PERSONS = 2000
DEFAULT_DAYS = 28
DEFAULT_START = dt.date(2026, 10, 1)
DEFAULT_SEED = 42

__all__ = ["DEFAULT_DAYS", "DEFAULT_PERSONS", "DEFAULT_SEED", "DEFAULT_START", "delivery_plan", "generate"]
