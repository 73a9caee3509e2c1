"""Genesis presets: the cast a new network starts with.

``demo`` is a realistic import from Shenzhen to Rotterdam: port operators and
terminals at Shekou (CNSHK) and Rotterdam (NLRTM), a carrier, the exporter and
the importer, a forwarder, a haulier, two banks, and the Chinese and Dutch
customs and tax authorities. The port operators, the carrier and both customs
administrations are the stewards that vote on new members.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from portchain.app.genesis import GenesisDoc, Validator
from portchain.node.home import Home


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    country: str
    roles: tuple[str, ...]
    steward: bool = False


DEMO_CAST: tuple[Member, ...] = (
    Member("SHEKOU-PORT", "Shekou Port Operations Co.", "CN", ("port_operator",), True),
    Member("SHEKOU-CT", "Shekou Container Terminal", "CN", ("terminal",)),
    Member("RTM-PORT", "Rotterdam Port Operations", "NL", ("port_operator",), True),
    Member("RTM-DELTA", "Delta Deep-Sea Terminal Rotterdam", "NL", ("terminal",)),
    Member("MERIDIAN", "Meridian Ocean Lines", "SG", ("carrier",), True),
    Member("BRIGHTWAVE", "Shenzhen Brightwave Electronics Co.", "CN", ("shipper",)),
    Member("HOLLANDHOME", "Holland Home Goods B.V.", "NL", ("consignee",)),
    Member("PEARLFWD", "Pearl River Forwarding Ltd.", "CN", ("forwarder",)),
    Member("MAASHAUL", "Maasvlakte Haulage B.V.", "NL", ("haulier",)),
    Member("SZTRADEBANK", "Shenzhen Trade Bank", "CN", ("bank",)),
    Member("HOLLANDBANK", "Holland Trade Bank N.V.", "NL", ("bank",)),
    Member("CN-CUSTOMS", "Shenzhen Customs District", "CN", ("customs",), True),
    Member("CN-TAX", "Shenzhen Tax Service", "CN", ("tax_authority",)),
    Member("NL-CUSTOMS", "Dutch Customs Rotterdam", "NL", ("customs",), True),
    Member("NL-TAX", "Dutch Tax Administration", "NL", ("tax_authority",)),
)

MINIMAL_CAST: tuple[Member, ...] = (
    Member("OPERATOR", "Port Operator", "NL", ("port_operator", "terminal"), True),
)

PRESETS = {"demo": DEMO_CAST, "minimal": MINIMAL_CAST}


def create_network(
    home: Home,
    *,
    chain_id: str,
    cast: tuple[Member, ...],
    genesis_time_ms: int | None = None,
    validator_name: str = "solo",
) -> GenesisDoc:
    """Write keys for ``cast`` and a validator into ``home`` and return the genesis written."""
    validator = home.new_validator_key()
    organisations = []
    for member in cast:
        admin = home.new_key(member.id)
        encryption = home.new_encryption_key(member.id)
        organisations.append(
            {
                "id": member.id,
                "name": member.name,
                "country": member.country,
                "roles": sorted(member.roles),
                "steward": member.steward,
                "admin_key": admin.key.public_key.hex(),
                "encryption_key": encryption.public_key.hex(),
            }
        )
    genesis = GenesisDoc(
        chain_id=chain_id,
        genesis_time_ms=time.time_ns() // 1_000_000 if genesis_time_ms is None else genesis_time_ms,
        validators=[
            Validator(name=validator_name, public_key=validator.public_key.hex(), power=10)
        ],
        app_state={"membership": {"organisations": organisations}},
    )
    home.write_genesis(genesis)
    return genesis
