"""Errors of the trade module (codespace ``trade``); codes are stable.

::

    ModuleError (codespace "trade")
    ├── 1 contract_exists     the contract id is taken
    ├── 2 contract_not_found  no such contract (or not visible to the signer)
    ├── 3 not_a_party         the signer is not the party this step needs
    ├── 4 bad_status          the contract's status does not allow this step
    ├── 5 counterparty        the other party is not an active member in the right role
    └── 6 no_amendment        no amendment is pending (or one already is)
"""

from portchain.kernel.errors import ModuleError, register

CODESPACE = "trade"

ContractExists = register(ModuleError, CODESPACE, 1, "contract_exists", "the id is taken")
ContractNotFound = register(ModuleError, CODESPACE, 2, "contract_not_found", "no such contract")
NotAParty = register(ModuleError, CODESPACE, 3, "not_a_party", "the signer may not take this step")
BadStatus = register(ModuleError, CODESPACE, 4, "bad_status", "the status does not allow it")
Counterparty = register(
    ModuleError, CODESPACE, 5, "counterparty", "the other party is not an active member"
)
NoAmendment = register(ModuleError, CODESPACE, 6, "no_amendment", "no amendment fits this step")
