#!/usr/bin/env python3
"""Verifies a huren DSSE envelope with securesystemslib, an independent DSSE implementation.

The keys file lists the public keys the envelope must be signed by, as huren's registry lists
them: [{"keyid": "<hex>", "algorithm": "ed25519" | "ecdsa-p256", "public": "<base64 raw>"}]
(raw = the 32-byte Ed25519 key, or the 65-byte uncompressed P-256 point).
Prints VERIFIED and the key ids that signed and exits 0, or REFUSED and why and exits 1.

    dsse_verify.py --envelope receipt.json --keys keys.json --threshold 1 --payload-type TYPE
"""

import argparse
import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def load_key(entry):
    raw = base64.b64decode(entry["public"])
    if entry["algorithm"] == "ed25519":
        public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    elif entry["algorithm"] == "ecdsa-p256":
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    else:
        raise ValueError(f"unknown algorithm {entry['algorithm']}")
    return SSlibKey.from_crypto(public, keyid=entry["keyid"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envelope", required=True, help="DSSE envelope JSON file")
    parser.add_argument("--keys", required=True, help="JSON list of trusted public keys")
    parser.add_argument("--threshold", type=int, default=1)
    parser.add_argument("--payload-type", required=True, help="the payloadType expected")
    args = parser.parse_args()

    with open(args.envelope, encoding="utf-8") as f:
        envelope = Envelope.from_dict(json.load(f))
    with open(args.keys, encoding="utf-8") as f:
        keys = [load_key(k) for k in json.load(f)]
    if envelope.payload_type != args.payload_type:
        print(f"REFUSED: payloadType {envelope.payload_type!r}")
        return 1
    try:
        accepted = envelope.verify(keys, args.threshold)
    except Exception as e:  # securesystemslib raises VerificationError and friends
        print(f"REFUSED: {type(e).__name__}: {e}")
        return 1
    print("VERIFIED " + " ".join(sorted(accepted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
