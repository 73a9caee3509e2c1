"""Errors of the port module (codespace ``port``); codes are stable.

::

    ModuleError (codespace "port")
    ├── 1 terminal_not_found  no terminal with that id
    ├── 2 terminal_exists     the terminal id is taken
    ├── 3 not_entitled        the signer is not the party entitled to this move or terminal
    ├── 4 port_not_yours      the port is not in the port operator's country
    ├── 5 not_a_terminal_org  the named operator is not an active organisation with role terminal
    ├── 6 call_not_found      no such vessel call
    ├── 7 call_elsewhere      the vessel call is not at this terminal
    ├── 8 not_there           the container is not where the move needs it to be
    ├── 9 wrong_vessel        a discharge from a call the container was not loaded for
    ├── 10 fill_mismatch      EMPTY/LADEN contradicts what the container is known to be
    ├── 11 release_missing    a laden import container lacks a release for gate-out
    ├── 12 booking_required   an inland stuffing or stripping of a container with no booking
    └── 13 container_not_found no move of that container is recorded
"""

from portchain.kernel.errors import ModuleError, register

CODESPACE = "port"

TerminalNotFound = register(ModuleError, CODESPACE, 1, "terminal_not_found", "no such terminal")
TerminalExists = register(ModuleError, CODESPACE, 2, "terminal_exists", "the terminal id is taken")
NotEntitled = register(
    ModuleError, CODESPACE, 3, "not_entitled", "the signer may not report this move here"
)
PortNotYours = register(
    ModuleError, CODESPACE, 4, "port_not_yours", "the port is not in the operator's country"
)
NotATerminalOrg = register(
    ModuleError, CODESPACE, 5, "not_a_terminal_org", "not an active organisation with role terminal"
)
CallNotFound = register(ModuleError, CODESPACE, 6, "call_not_found", "no such vessel call")
CallElsewhere = register(
    ModuleError, CODESPACE, 7, "call_elsewhere", "the vessel call is not at this terminal"
)
NotThere = register(
    ModuleError, CODESPACE, 8, "not_there", "the container is not where the move needs it"
)
WrongVessel = register(
    ModuleError, CODESPACE, 9, "wrong_vessel", "the container was not loaded for this discharge"
)
FillMismatch = register(
    ModuleError, CODESPACE, 10, "fill_mismatch", "EMPTY/LADEN contradicts the container's state"
)
ReleaseMissing = register(
    ModuleError, CODESPACE, 11, "release_missing", "a release needed for gate-out is missing"
)
BookingRequired = register(
    ModuleError, CODESPACE, 12, "booking_required", "the container has no booking"
)
ContainerNotFound = register(
    ModuleError, CODESPACE, 13, "container_not_found", "no move of that container is recorded"
)
