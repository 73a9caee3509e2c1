"""Errors of the logistics module (codespace ``logistics``); codes are stable.

::

    ModuleError (codespace "logistics")
    ├── 1 vessel_exists        a vessel with that IMO number is registered
    ├── 2 vessel_not_found     no vessel with that IMO number
    ├── 3 not_your_vessel      the vessel belongs to another carrier
    ├── 4 call_exists          the vessel call id is taken
    ├── 5 call_not_found       no such vessel call
    ├── 6 terminal_not_found   the terminal of the call is not registered, or not in that port
    ├── 7 bad_transport_event  the transport event contradicts the call's earlier ones
    ├── 8 booking_exists       the booking reference is taken
    ├── 9 booking_not_found    no such booking (or not visible to the signer)
    ├── 10 not_a_party         the signer is not the party this booking step needs
    ├── 11 bad_booking_status  the booking is not in a status that allows this step
    ├── 12 container_exists    the container number is registered
    ├── 13 container_not_found no such container
    ├── 14 not_a_carrier       the named carrier is not an active carrier member
    └── 15 contract_mismatch   the sales contract does not exist or does not name this shipper
"""

from portchain.kernel.errors import ModuleError, register

CODESPACE = "logistics"

VesselExists = register(ModuleError, CODESPACE, 1, "vessel_exists", "the vessel is registered")
VesselNotFound = register(ModuleError, CODESPACE, 2, "vessel_not_found", "no such vessel")
NotYourVessel = register(
    ModuleError, CODESPACE, 3, "not_your_vessel", "the vessel belongs to another carrier"
)
CallExists = register(ModuleError, CODESPACE, 4, "call_exists", "the call id is taken")
CallNotFound = register(ModuleError, CODESPACE, 5, "call_not_found", "no such vessel call")
TerminalNotFound = register(
    ModuleError, CODESPACE, 6, "terminal_not_found", "no such terminal in that port"
)
BadTransportEvent = register(
    ModuleError, CODESPACE, 7, "bad_transport_event", "the event contradicts the call's events"
)
BookingExists = register(ModuleError, CODESPACE, 8, "booking_exists", "the reference is taken")
BookingNotFound = register(ModuleError, CODESPACE, 9, "booking_not_found", "no such booking")
NotAParty = register(
    ModuleError, CODESPACE, 10, "not_a_party", "the signer may not take this booking step"
)
BadBookingStatus = register(
    ModuleError, CODESPACE, 11, "bad_booking_status", "the booking's status does not allow it"
)
ContainerExists = register(
    ModuleError, CODESPACE, 12, "container_exists", "the container is registered"
)
ContainerNotFound = register(ModuleError, CODESPACE, 13, "container_not_found", "no such container")
NotACarrier = register(
    ModuleError, CODESPACE, 14, "not_a_carrier", "not an active member with role carrier"
)
ContractMismatch = register(
    ModuleError, CODESPACE, 15, "contract_mismatch", "the sales contract does not fit"
)
