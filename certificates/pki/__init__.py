"""Pure PKI core: read, check and convert the certificates and keys that customers upload.

This package only depends on the standard library and ``cryptography`` so it can be
tested and reused without Django. Every error it raises is a ``PKIError`` whose
``message`` can be shown to the customer as is.
"""
