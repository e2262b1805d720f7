"""Ground truth: which person every emitted identifier belongs to (normalised), and planted incidents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from orchestration.demo import catalog
from orchestration.demo.population import Population
from orchestration.demo.strs import cat, digits

PERSON_TYPES = ("email", "phone", "customer_id", "loyalty_id", "site_user_id", "pos_customer_id", "esp_member_id",
                "service_requester_id")  # fmt: skip


class Truth:
    """Flags set where a writer emits an identifier; junk values are never flagged (not a person's)."""

    def __init__(self, pop: Population):
        self.pop = pop
        self.person = {t: np.zeros(pop.n, dtype=bool) for t in PERSON_TYPES}
        self.slot = np.zeros(len(pop.slot_person), dtype=bool)
        self.card = np.zeros((pop.n, len(catalog.STORES)), dtype=bool)
        self.orders: list[tuple[np.ndarray, np.ndarray]] = []  # (order numbers, persons) of online orders

    def mark(self, kind: str, persons: np.ndarray, mask: np.ndarray | None = None) -> None:
        persons = np.asarray(persons, dtype=np.int64)
        self.person[kind][persons if mask is None else persons[np.asarray(mask, dtype=bool)]] = True

    def mark_slots(self, slots: np.ndarray) -> None:
        self.slot[np.asarray(slots, dtype=np.int64)] = True

    def mark_cards(self, persons: np.ndarray, stores: np.ndarray) -> None:
        self.card[np.asarray(persons, dtype=np.int64), np.asarray(stores, dtype=np.int64)] = True

    def add_orders(self, numbers: np.ndarray, persons: np.ndarray) -> None:
        """Online orders: their reference (`order_ref`, the order name without '#') belongs to the buyer."""
        self.orders.append((np.asarray(numbers, dtype=np.int64), np.asarray(persons, dtype=np.int64)))

    def table(self) -> pa.Table:
        p = self.pop
        values = {
            "email": p.email, "phone": p.phone_e164, "customer_id": p.customer_id, "loyalty_id": p.loyalty_id,
            "site_user_id": p.site_user_id, "pos_customer_id": p.pos_customer_id, "esp_member_id": p.euid,
            "service_requester_id": p.requester_id,
        }  # fmt: skip
        types, vals, persons = [], [], []
        for kind in PERSON_TYPES:
            idx = np.flatnonzero(self.person[kind])
            types.append(np.full(len(idx), kind))
            vals.append(values[kind][idx])
            persons.append(idx)
        slots = np.flatnonzero(self.slot)
        kinds = np.where(p.slot_platform[slots] == "WEB", "ga_client_id", "app_instance_id")
        types.append(kinds)
        vals.append(p.device_value[p.slot_device[slots]])
        persons.append(p.slot_person[slots])
        cp, cs = np.nonzero(self.card)
        loc = np.asarray([s[0].lower() for s in catalog.STORES])
        types.append(np.full(len(cp), "card_fingerprint"))
        vals.append(cat(np.strings.lower(p.card_brand[cp]), ":", p.card_suffix[cp], ":", loc[cs]))
        persons.append(cp)
        if self.orders:
            numbers = np.concatenate([o[0] for o in self.orders])
            types.append(np.full(len(numbers), "order_ref"))
            vals.append(numbers.astype(str))
            persons.append(np.concatenate([o[1] for o in self.orders]))
        person = np.concatenate(persons)
        t = pa.table({
            "identifier_type": np.concatenate(types).astype(str),
            "identifier_value": np.concatenate(vals).astype(str),
            "person_key": cat("P", digits(person, 7)),
        })  # fmt: skip
        return t.sort_by([("identifier_type", "ascending"), ("identifier_value", "ascending"),
                          ("person_key", "ascending")])  # fmt: skip


def write_truth(truth: Truth, truth_dir: Path, incidents: list[dict], write_csv) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    write_csv(truth.table(), truth_dir / "identifiers.csv")
    cols = ("incident", "channel", "step", "start_date", "end_date")
    inc = pa.table({c: pa.array([str(i[c]) for i in incidents], pa.string()) for c in cols})
    target = truth_dir / "incidents.csv"
    if incidents:
        write_csv(inc, target)
    else:
        target.unlink(missing_ok=True)  # a rerun without an incident must not keep a stale one
