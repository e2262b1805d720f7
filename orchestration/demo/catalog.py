"""Fixed reference data of the simulated Nordic retailer: names, places, stores, products."""

from __future__ import annotations

import numpy as np

COUNTRIES = ("DK", "SE")
COUNTRY_WEIGHTS = (0.6, 0.4)
CURRENCY = {"DK": "DKK", "SE": "SEK"}
PRICE_FACTOR = {"DK": 1.0, "SE": 1.5}  # SEK prices from the DKK list
EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "live.dk", "yahoo.com", "telia.com", "icloud.com")

FIRST_NAMES = {
    "DK": ("Anna", "Søren", "Mette", "Jørgen", "Åse", "Birgitte", "Mads", "Frederik", "Ida", "Line",
           "Rasmus", "Kirsten", "Bjørn", "Sørine", "Jens", "Lærke", "Mikkel", "Signe", "Ærø", "Nikolaj"),
    "SE": ("Åsa", "Björn", "Märta", "Erik", "Karin", "Lars", "Sofia", "Göran", "Maja", "Jöns",
           "Elin", "Oskar", "Linnéa", "Hjalmar", "Ingrid", "Måns", "Astrid", "Nils", "Saga", "Örjan"),
}  # fmt: skip
LAST_NAMES = {
    "DK": ("Hansen", "Jensen", "Nielsen", "Pedersen", "Sørensen", "Møller", "Thomsen", "Kjær",
           "Lægaard", "Bæk", "Rasmussen", "Christensen", "Østergaard", "Kristiansen", "Holm"),
    "SE": ("Andersson", "Johansson", "Ström", "Åberg", "Öberg", "Lindström", "Näslund", "Bergström",
           "Håkansson", "Karlsson", "Nilsson", "Sjögren", "Ekström", "Lundqvist", "Wallén"),
}  # fmt: skip
# City, postcodes (as the country writes them), Mailchimp REGION.
CITIES = {
    "DK": (("København K", ("1050", "1160", "1358", "1473"), "Capital Region"),
           ("Frederiksberg", ("2000",), "Capital Region"),
           ("Aarhus C", ("8000",), "Central Jutland"),
           ("Odense C", ("5000",), "South Denmark"),
           ("Aalborg", ("9000",), "North Jutland")),
    "SE": (("Stockholm", ("111 20", "114 55", "118 46"), "Stockholm"),
           ("Göteborg", ("411 01", "413 04"), "Västra Götaland"),
           ("Malmö", ("211 20", "214 45"), "Skåne"),
           ("Uppsala", ("753 10",), "Uppsala")),
}  # fmt: skip
# Square locations; Time Zone as Square writes it (not IANA).
STORES = (
    ("København Strøget", "DK", "Copenhagen"),
    ("Aarhus Bruuns Galleri", "DK", "Copenhagen"),
    ("Odense Rosengårdcentret", "DK", "Copenhagen"),
    ("Stockholm Drottninggatan", "SE", "Stockholm"),
    ("Göteborg Nordstan", "SE", "Stockholm"),
    ("Malmö Triangeln", "SE", "Stockholm"),
)
STORE_COUNTRY = np.array([s[1] for s in STORES])
CARD_BRANDS = ("Visa", "MasterCard", "Maestro", "American Express")
CARD_BRAND_WEIGHTS = (0.55, 0.3, 0.1, 0.05)

# sku, name, category, DKK price (VAT incl.)
PRODUCTS = (
    ("TX-1001", "Strikhue – grå", "Tilbehør", 149.0), ("TX-1002", "Uldsokker 3-pak", "Tilbehør", 119.0),
    ("TX-1003", "Halstørklæde i alpaka", "Tilbehør", 349.0), ("TX-2001", "Regnjakke Ålesund", "Overtøj", 1149.0),
    ("TX-2002", "Dunjakke Nordkap", "Overtøj", 1899.0), ("TX-2003", "Vindjakke Öresund", "Overtøj", 899.0),
    ("TX-3001", "Bomulds-T-shirt", "Basis", 129.0), ("TX-3002", "Merino undertrøje", "Basis", 399.0),
    ("TX-3003", "Strømpebukser", "Basis", 89.0), ("TX-4001", "Jeans Slim Fit", "Bukser", 599.0),
    ("TX-4002", "Chinos Märta", "Bukser", 499.0), ("TX-4003", "Løbetights", "Sport", 379.0),
    ("TX-5001", "Vandrestøvle Fjäll", "Sko", 1299.0), ("TX-5002", "Sneakers Hvid", "Sko", 749.0),
    ("TX-5003", "Gummistøvler", "Sko", 329.0), ("TX-6001", "Sengetøj i hør", "Hjem", 899.0),
    ("TX-6002", "Plaid i uld", "Hjem", 549.0), ("TX-6003", "Håndklæde-sæt", "Hjem", 279.0),
    ("TX-7001", "Rygsæk Kåre", "Tasker", 699.0), ("TX-7002", "Mulepose økologisk", "Tasker", 59.0),
)  # fmt: skip
PRODUCT_WEIGHTS = np.array([9, 8, 4, 3, 2, 3, 10, 5, 6, 5, 4, 4, 2, 4, 3, 2, 3, 4, 3, 8], dtype=float)
PRODUCT_WEIGHTS /= PRODUCT_WEIGHTS.sum()

SHOPIFY_APP_SOURCE = "1354745"  # Shopify writes the sales channel app id for app orders
GA4_WEB_STREAM = "4162578390"
GA4_APP_STREAMS = {"ANDROID": "4162578391", "IOS": "4162578392"}
SITE = "https://www.nordvik.example"
MAILCHIMP_LIST_ID = "8e4f2a91c3"
SERVICE_GROUPS = ("Kundeservice DK", "Kundservice SE", "Returns")
SERVICE_SUBJECTS = ("Hvor er min pakke?", "Retur af vare", "Fel storlek – byte", "Spørgsmål om medlemskab",
                    "Reklamation: lynlås i stykker", "Faktura ønskes", "Ändra leveransadress")  # fmt: skip
NPS_COMMENTS = ("Super god service!", "Leveringen tog for lang tid", "Bra kvalitet, snabb leverans",
                "Personalet i butikken var søde", "", "Appen crasher ved betaling", "För dyrt",
                "Alt fungerede fint", "Jakken holdt ikke formen")  # fmt: skip

_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "é": "e",
                        "Æ": "Ae", "Ø": "Oe", "Å": "Aa", "Ä": "A", "Ö": "O"})  # fmt: skip


def ascii_name(name: str) -> str:
    """How people write their name in an e-mail address: no æøåäö, lower case."""
    return name.translate(_ASCII).lower()
