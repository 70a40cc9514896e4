"""The `navigator` console script: Flask's CLI bound to `create_app`."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from navigator import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """navigator: care-navigation single point of access (BLMK)."""
