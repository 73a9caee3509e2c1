"""Errors of the ebl module (codespace ``ebl``); codes are stable.

::

    ModuleError (codespace "ebl")
    ├── 1 reference_taken      the transport document reference is taken
    ├── 2 ebl_not_found        no such transport document (or not visible to the signer)
    ├── 3 not_entitled         the signer is not the party this step belongs to
    ├── 4 wrong_status         the document's status does not allow this step
    ├── 5 closed               the document is accomplished or voided: nothing more happens to it
    ├── 6 not_the_holder       only the current holder may act on the bill
    ├── 7 not_negotiable       the bill may not be endorsed (straight, or endorsed to a named party)
    ├── 8 transfer_not_allowed the recipient may not receive the bill in its present form
    ├── 9 not_a_title_document a sea waybill does not move between holders
    ├── 10 not_loaded          a container is not loaded on the booking's vessel call
    ├── 11 booking_mismatch    the booking is unknown, not confirmed, or does not carry a container
    ├── 12 container_taken     a container is on another live transport document
    ├── 13 not_a_member        a named party is not an active member organisation
    ├── 14 stale_draft         the draft changed since the version the shipper approves
    └── 15 chain_full          the endorsement chain reached its limit
"""

from portchain.kernel.errors import ModuleError, register

CODESPACE = "ebl"

ReferenceTaken = register(ModuleError, CODESPACE, 1, "reference_taken", "the reference is taken")
EblNotFound = register(ModuleError, CODESPACE, 2, "ebl_not_found", "no such transport document")
NotEntitled = register(ModuleError, CODESPACE, 3, "not_entitled", "this step is another party's")
WrongStatus = register(ModuleError, CODESPACE, 4, "wrong_status", "the status does not allow it")
Closed = register(ModuleError, CODESPACE, 5, "closed", "accomplished or voided")
NotTheHolder = register(ModuleError, CODESPACE, 6, "not_the_holder", "only the holder may act")
NotNegotiable = register(ModuleError, CODESPACE, 7, "not_negotiable", "the bill is not endorsable")
TransferNotAllowed = register(
    ModuleError, CODESPACE, 8, "transfer_not_allowed", "the recipient may not receive it"
)
NotATitleDocument = register(
    ModuleError, CODESPACE, 9, "not_a_title_document", "a sea waybill does not change hands"
)
NotLoaded = register(ModuleError, CODESPACE, 10, "not_loaded", "a container is not loaded")
BookingMismatch = register(
    ModuleError, CODESPACE, 11, "booking_mismatch", "the booking does not fit"
)
ContainerTaken = register(
    ModuleError, CODESPACE, 12, "container_taken", "the container is on another document"
)
NotAMember = register(ModuleError, CODESPACE, 13, "not_a_member", "not an active member")
StaleDraft = register(ModuleError, CODESPACE, 14, "stale_draft", "the draft changed since")
ChainFull = register(ModuleError, CODESPACE, 15, "chain_full", "the chain is full")
