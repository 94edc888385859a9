"""The ACME server's use cases, keyword-only functions the ACME views and the console call.

accounts: credentials (create, revoke), accounts (register with External Account
Binding, update, deactivate). orders: new orders, challenge answers, finalize (through
the certificates' own issuance service). validation: the background check of a challenge.
"""
