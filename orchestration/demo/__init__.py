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
- people without an e-mail address rarely browse the shop (15% of the visit rate): they buy in stores.
What stays anonymous, on purpose: browsers of guests who neither log in, click an e-mail nor buy in
the period (on the default demo 96 of 1,719 web devices, 5.6%; 2 of 655 app devices), sessions that declined analytics
consent (not exported at all), and card fingerprints (card brand + PAN suffix + store region), a weak
type the identity graph never uses as an edge: they are in the truth, and each stays a person of its own.
"""

from __future__ import annotations

import datetime as dt

from orchestration.demo.generator import delivery_plan, generate

DEFAULT_PERSONS = 2000
DEFAULT_DAYS = 28
DEFAULT_START = dt.date(2026, 10, 1)
DEFAULT_SEED = 42

__all__ = ["DEFAULT_DAYS", "DEFAULT_PERSONS", "DEFAULT_SEED", "DEFAULT_START", "delivery_plan", "generate"]
