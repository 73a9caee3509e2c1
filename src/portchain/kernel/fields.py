"""Field types shared by every module's messages, each with its rule in its error text.

They are ``Annotated`` pydantic types, so a message that breaks one is refused
at decode with the field's path and the rule (``body.country: must be an ISO
3166-1 alpha-2 code``) before any state is read.
"""

from __future__ import annotations

import re
from typing import Annotated

import pycountry
from pydantic import AfterValidator, StringConstraints

from portchain.kernel.crypto import KEY_ID_HEX_LEN


def _country(code: str) -> str:
    if len(code) != 2 or not code.isupper() or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. CN or NL")
    return code


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 control characters and DEL."""


def _no_controls(text: str) -> str:
    if _CONTROLS.search(text):
        raise ValueError("must not contain control characters")
    if text != text.strip():
        raise ValueError("must not start or end with white space")
    return text


OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,31}$")]
"""An organisation id: 2-32 of A-Z, 0-9, '-', '_', starting with a letter or digit."""

KeyId = Annotated[str, StringConstraints(pattern=rf"^[0-9a-f]{{{KEY_ID_HEX_LEN}}}$")]
"""A key id: 40 lowercase hex digits."""

Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""32 bytes as 64 lowercase hex digits (public keys, hashes)."""

Country = Annotated[str, AfterValidator(_country)]
"""An ISO 3166-1 alpha-2 country code."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_no_controls)]
"""A display name: 1-128 characters, no control characters, no outer white space."""

Label = Annotated[str, StringConstraints(max_length=64), AfterValidator(_no_controls)]
"""A short label: at most 64 characters."""

Text = Annotated[str, StringConstraints(max_length=1024)]
"""Free text such as a reason: at most 1,024 characters."""
