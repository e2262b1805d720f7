"""Shopify orders export rows: one per line item, order fields only on an order's first row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo import catalog
from orchestration.demo.context import PRODUCT_NAME, PRODUCT_SKU, Ctx
from orchestration.demo.formats import JUNK_EMAIL, JUNK_PHONE, email_variants, phone_variants
from orchestration.demo.strs import cat, money, to_arrow
from orchestration.demo.timeutil import fmt_local

STREETS = {"DK": np.array(["Nørregade", "Østerbrogade", "Vestergade", "Åboulevarden", "Søndergade"]),
           "SE": np.array(["Storgatan", "Drottninggatan", "Kungsgatan", "Östra Hamngatan",
                           "Västerlånggatan"])}  # fmt: skip
SHIP_METHODS = np.array(["PostNord MyPack Collect", "GLS Pakkeshop", "DAO Hjemmelevering", "Instabox"])
PAY_METHODS = {"DK": np.array(["Shopify Payments", "MobilePay", "Klarna"]),
               "SE": np.array(["Shopify Payments", "Swish", "Klarna"])}  # fmt: skip


def street_of(pop, persons: np.ndarray) -> np.ndarray:
    c = pop.country[persons]
    num = (persons * 7919 % 97 + 1).astype(str)
    return cat(np.where(c == "DK", STREETS["DK"][persons % 5], STREETS["SE"][persons % 5]), " ", num)


def order_rows(ctx: Ctx, day: int, person, utc, is_app, names, line_order, line_product, line_qty, line_price,
               subtotal, shipping) -> None:  # fmt: skip
    """Write the day's orders (arrays per order; lines grouped by order, in order)."""
    rng, pop = ctx.rng, ctx.pop
    k = len(person)
    if k == 0:
        return
    country = pop.country[person]
    total = subtotal + shipping
    # who typed what at checkout
    has_email = pop.has_email[person]
    junk_email = (~has_email) | (rng.random(k) < 0.02)
    blank_email = ~junk_email & (rng.random(k) < 0.04)
    email = np.where(junk_email, JUNK_EMAIL, email_variants(rng, pop.email[person]))
    email_ok = ~junk_email & ~blank_email
    gives_phone = pop.has_phone[person] | blank_email | junk_email
    junk_phone = rng.random(k) < 0.01
    bill_phone_on = gives_phone & (rng.random(k) < 0.8)
    phone_on = gives_phone & (rng.random(k) < 0.4)
    ship_phone_on = gives_phone & (rng.random(k) < 0.5)
    phones = [np.where(junk_phone, JUNK_PHONE, phone_variants(rng, country, pop.phone_national[person]))
              for _ in range(3)]  # fmt: skip
    ctx.truth.mark("email", person, email_ok)
    ctx.truth.add_orders(names, person)
    ctx.truth.mark("phone", person, ~junk_phone & (bill_phone_on | phone_on | ship_phone_on))

    name = cat(pop.first_name[person], " ", pop.last_name[person])
    zipc = np.where(rng.random(k) < 0.25, cat("'", pop.postcode[person]), pop.postcode[person])
    street = street_of(pop, person)
    created = fmt_local(utc)
    source = np.where(is_app, catalog.SHOPIFY_APP_SOURCE, "web")
    order_id = (5_900_000_000_000 + names * 7 + rng.integers(0, 7, k)).astype(str)
    pay = np.where(country == "DK", PAY_METHODS["DK"][rng.integers(0, 3, k)], PAY_METHODS["SE"][rng.integers(0, 3, k)])
    tax = np.round(total * 0.2, 2)

    lo = line_order
    first = np.r_[True, lo[1:] != lo[:-1]]

    def order_col(values, mask=None):
        m = first if mask is None else first & np.asarray(mask)[lo]
        return to_arrow(values.take(pa.array(lo)) if isinstance(values, pa.Array) else np.asarray(values)[lo], m)

    cols = {
        "Name": to_arrow(cat("#", names.astype(str))[lo]),
        "Email": to_arrow(email[lo], email_ok[lo] | (junk_email[lo])),
        "Financial Status": order_col(np.full(k, "paid")),
        "Paid at": order_col(created),
        "Fulfillment Status": order_col(np.full(k, "unfulfilled")),
        "Accepts Marketing": order_col(np.where(pop.esp_status[person] == 1, "yes", "no")),
        "Currency": order_col(np.where(country == "DK", "DKK", "SEK")),
        "Subtotal": order_col(money(subtotal)),
        "Shipping": order_col(money(shipping)),
        "Taxes": order_col(money(tax)),
        "Total": order_col(money(total)),
        "Discount Amount": order_col(np.full(k, "0.00")),
        "Shipping Method": order_col(SHIP_METHODS[rng.integers(0, len(SHIP_METHODS), k)]),
        "Created at": order_col(created),
        "Lineitem quantity": to_arrow(line_qty.astype(str)),
        "Lineitem name": to_arrow(PRODUCT_NAME[line_product]),
        "Lineitem price": to_arrow(money(line_price)),
        "Lineitem sku": to_arrow(PRODUCT_SKU[line_product]),
        "Lineitem requires shipping": to_arrow(np.full(len(lo), "true")),
        "Lineitem taxable": to_arrow(np.full(len(lo), "true")),
        "Lineitem fulfillment status": to_arrow(np.full(len(lo), "pending")),
        "Billing Name": order_col(name),
        "Billing Street": order_col(street),
        "Billing Address1": order_col(street),
        "Billing City": order_col(pop.city[person]),
        "Billing Zip": order_col(zipc),
        "Billing Country": order_col(country),
        "Billing Phone": order_col(phones[0], bill_phone_on),
        "Shipping Name": order_col(name),
        "Shipping Street": order_col(street),
        "Shipping Address1": order_col(street),
        "Shipping City": order_col(pop.city[person]),
        "Shipping Zip": order_col(zipc),
        "Shipping Country": order_col(country),
        "Shipping Phone": order_col(phones[1], ship_phone_on),
        "Payment Method": order_col(pay),
        "Refunded Amount": order_col(np.full(k, "0.00")),
        "Vendor": to_arrow(np.full(len(lo), "Nordvik")),
        "Outstanding Balance": order_col(np.full(k, "0.00")),
        "Id": order_col(order_id),
        "Risk Level": order_col(np.full(k, "Low")),
        "Source": order_col(source),
        "Lineitem discount": to_arrow(np.full(len(lo), "0.00")),
        "Tax 1 Name": order_col(np.where(country == "DK", "DK Moms 25%", "SE Moms 25%")),
        "Tax 1 Value": order_col(money(tax)),
        "Phone": order_col(phones[2], phone_on),
        "_t": pa.array(utc[lo]),
        "_k": pa.array(np.arange(len(lo))),
    }
    ctx.sink.add("shopify_orders", day, pa.table(cols))
