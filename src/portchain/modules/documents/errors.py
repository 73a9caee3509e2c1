"""Errors of the documents module (codespace ``documents``); codes are stable.

::

    ModuleError (codespace "documents")
    ├── 1 document_exists     the document id is taken
    ├── 2 document_not_found  no such document (or not visible to the signer)
    ├── 3 not_the_issuer      only the issuer may do this
    ├── 4 hash_mismatch       the ciphertext does not have the declared SHA-256
    ├── 5 not_a_member        a grantee is not an active member organisation
    ├── 6 grant_exists        the organisation already holds a grant (or holds none to revoke)
    └── 7 superseded          the document is already superseded
"""

from portchain.kernel.errors import ModuleError, register

CODESPACE = "documents"

DocumentExists = register(ModuleError, CODESPACE, 1, "document_exists", "the id is taken")
DocumentNotFound = register(ModuleError, CODESPACE, 2, "document_not_found", "no such document")
NotTheIssuer = register(ModuleError, CODESPACE, 3, "not_the_issuer", "only the issuer may")
HashMismatch = register(ModuleError, CODESPACE, 4, "hash_mismatch", "the hash does not match")
NotAMember = register(ModuleError, CODESPACE, 5, "not_a_member", "not an active member")
GrantExists = register(ModuleError, CODESPACE, 6, "grant_exists", "the grant does not fit")
Superseded = register(ModuleError, CODESPACE, 7, "superseded", "already superseded")
