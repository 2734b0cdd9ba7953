"""The share page says what the PDF says and cannot be framed: each tax rate on its base,
the client's address and tax id, the seller's tax id, in the seller's language; every
answer of /i/... (the page, its PDF, an unknown link) refuses to be shown inside another
site's page, and its one stylesheet is allowed by its hash, nothing inline besides."""

import base64
import hashlib
import re
from typing import Any

import pytest
from simplejson import RawJSON

from gateway.services import Services
from tests.conftest import TestClient
from tests.dashboard_support import text_of
from tests.integration.test_share import Seller, open_seller
from tests.pdf_support import pdf_text
from usecases.accounts import AccountFields

pytestmark = pytest.mark.sqlite_only  # what a page shows does not depend on the store

TWO_RATES = [
    {"description": "Books", "quantity": 2, "unitPrice": RawJSON("20.00"), "taxRate": 4},
    {"description": "Design", "quantity": 1, "unitPrice": RawJSON("100.00"), "taxRate": 21},
]


def seller_with_tax_id(http: TestClient, services: Services, locale: str = "en") -> Seller:
    seller = open_seller(http, services, locale, "Vendedor SL" if locale == "es" else "Seller Ltd")
    assert seller.tenant is not None
    services.usecases.accounts.update(seller.tenant.account_id, AccountFields({"taxId": "ESB12345678"}))
    return seller


@pytest.fixture
def seller(http: TestClient, services: Services) -> Seller:
    return open_seller(http, services)


def client_abroad(seller: Seller) -> dict[str, Any]:
    return seller.create_client(
        name="Acme Corp", email="billing@acme.test", address="10 Downing Street\nLondon SW1A 2AA", taxId="GB123456789"
    )


def refuses_framing(response: Any) -> None:
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy, policy
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_page_shows_each_tax_rate_the_client_address_and_the_sellers_tax_id_as_the_pdf_does(
    http: TestClient, services: Services, locale: str
) -> None:
    seller = seller_with_tax_id(http, services, locale)
    _, token = seller.issued(client_abroad(seller), lineItems=TWO_RATES)
    page = text_of(seller.page(token).text)
    pdf = re.sub(r"\s+", " ", pdf_text(seller.http.get(f"/i/{token}/pdf").content))
    if locale == "en":
        said = ["Tax 4% on $40.00 $1.60", "Tax 21% on $100.00 $21.00", "Total tax $22.60", "Total $162.60"]
        said += ["10 Downing Street", "London SW1A 2AA", "VAT: GB123456789", "NIF: ESB12345678", "Bill to"]
        in_pdf = ["Tax 4% on $40.00", "Tax 21% on $100.00", "10 Downing Street", "VAT: GB123456789", "NIF: ESB12345678"]
    else:
        said = ["Impuesto 4 % sobre 40,00 US$ 1,60 US$", "Impuesto 21 % sobre 100,00 US$ 21,00 US$"]
        said += ["Total de impuestos 22,60 US$", "10 Downing Street", "Facturar a"]
        said += ["VAT: GB123456789", "NIF: ESB12345678"]  # labelled by the holder's country, as the PDF labels them
        in_pdf = ["Impuesto 4 % sobre 40,00", "Impuesto 21 % sobre 100,00", "VAT: GB123456789", "NIF: ESB12345678"]
    page = page.replace("\xa0", " ")
    for expected in said:
        assert expected in page, (expected, page)
    for expected in in_pdf:
        assert expected in pdf.replace("\xa0", " "), (expected, pdf)


def test_the_page_its_pdf_and_an_unknown_link_cannot_be_framed(seller: Seller) -> None:
    _, token = seller.issued()
    for url in (f"/i/{token}", f"/i/{token}/pdf", "/i/unknown", "/i/unknown/pdf"):
        refuses_framing(seller.http.get(url))


def test_the_only_style_is_the_one_the_policy_names_by_its_hash(seller: Seller) -> None:
    _, token = seller.issued()
    response = seller.page(token)
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "script-src" not in policy and "default-src 'none'" in policy
    styles = re.findall(r"<style>(.*?)</style>", response.text, re.S)
    assert len(styles) == 1 and "style=" not in response.text and "<script" not in response.text
    digest = base64.b64encode(hashlib.sha256(styles[0].encode("utf-8")).digest()).decode("ascii")
    assert f"style-src 'sha256-{digest}'" in policy


def test_a_link_that_leads_nowhere_speaks_the_readers_language(seller: Seller) -> None:
    english = seller.http.get("/i/unknown")
    spanish = seller.http.get("/i/unknown", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert english.status_code == spanish.status_code == 404
    assert "Invoice not found" in english.text and '<html lang="en">' in english.text
    assert "Factura no encontrada" in spanish.text and '<html lang="es">' in spanish.text
