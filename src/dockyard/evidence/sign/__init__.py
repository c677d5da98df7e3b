"""Signatures: cosign-compatible image signatures and DSSE envelopes, ECDSA P-256.

    payload.py  pure: cosign's simple-signing payload (exact bytes) and its claim
    keys.py     PEM keys (PKCS#8, encrypted with $DOCKYARD_KEY_PASSWORD / $COSIGN_PASSWORD;
                SPKI public keys) -> SigningKey / VerifyingKey; never shown
    storage.py  cosign's storage: the `sha256-<hex>.sig` image, one layer per signature
    image.py    sign an image (index and every child) and check it with a public key
    dsse.py     DSSE envelopes (PAE) for attestations: sign_envelope, verify_envelope

The drivers that use them are in dockyard.pipeline.sign (`dockyard sign`,
`dockyard verify --key`, release's `[sign] key`).
"""
