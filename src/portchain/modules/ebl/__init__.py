"""Electronic bills of lading and sea waybills (DCSA eBL 3.0): draft, issue, endorse, surrender."""
