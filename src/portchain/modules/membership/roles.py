"""The roles an organisation can hold on the network."""

from enum import StrEnum


class Role(StrEnum):
    PORT_OPERATOR = "port_operator"
    TERMINAL = "terminal"
    CARRIER = "carrier"
    SHIPPER = "shipper"
    CONSIGNEE = "consignee"
    FORWARDER = "forwarder"
    HAULIER = "haulier"
    BANK = "bank"
    CUSTOMS = "customs"
    TAX_AUTHORITY = "tax_authority"
    INSURER = "insurer"
    INSPECTOR = "inspector"


ALL_ROLES: frozenset[str] = frozenset(role.value for role in Role)
