"""The call page's alternatives give the number the caller may ring and name a professional
line as one (hazard H5; fresh-eyes review of issue 17: the Phone column showed a crisis line's
professional-only number as its number, and a navigator could read it to the public)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from lxml import html as lxml_html

from tests.console.calls.conftest import take_call

pytestmark = pytest.mark.usefixtures("bedford_directory")


def test_an_alternatives_professional_line_is_named_as_one(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("navigator")
    page = client.get(f"/calls/{take_call(client)}").text
    rows = lxml_html.fromstring(page).xpath("//table[@id='alternatives']//tbody/tr")
    assert rows, "the fall call has alternatives"
    phones = [" ".join(row.xpath("./td[2]")[0].text_content().split()) for row in rows]
    for shown in phones:  # every builder service: public 01632 960001, professional 960002
        assert shown.startswith("01632 960001")
        assert "Professional line (for professionals only): 01632 960002" in shown
