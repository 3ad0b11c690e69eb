#!/usr/bin/env python3
"""Verifies a huren registry checkpoint as C2SP formats, independently of huren's Rust code.

signed-note (c2sp.org/signed-note), tlog-checkpoint (c2sp.org/tlog-checkpoint) and
tlog-cosignature cosignature/v1 (c2sp.org/tlog-cosignature), written from the specifications
with pyca/cryptography's Ed25519. The log key and the witnesses' keys are given as vkeys.
Prints VERIFIED, the checkpoint and the witnesses that cosigned, and exits 0; or REFUSED and
why, and exits 1.

    checkpoint_verify.py --note checkpoint.note --log-vkey VKEY --witness-vkey VKEY ... --threshold 2
"""

import argparse
import base64
import hashlib
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014 "


class Refused(Exception):
    pass


def parse_vkey(vkey):
    name, key_id, material = vkey.split("+", 2)
    material = base64.b64decode(material, validate=True)
    kind, public = material[0], material[1:]
    if len(public) != 32 or kind not in (0x01, 0x04):
        raise Refused(f"vkey {vkey}: not an Ed25519 note or cosignature key")
    computed = hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]
    if computed.hex() != key_id:
        raise Refused(f"vkey {vkey}: key id does not match")
    return {"name": name, "id": computed, "kind": kind, "key": Ed25519PublicKey.from_public_bytes(public)}


def parse_note(data):
    text = data.decode("utf-8")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise Refused("control character in note")
    split = text.rfind("\n\n")
    if split < 0:
        raise Refused("no blank line before the signatures")
    body, sigs = text[: split + 1], text[split + 2 :]
    if not sigs.endswith("\n"):
        raise Refused("last signature line has no newline")
    signatures = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(EM_DASH):
            raise Refused(f"bad signature line {line!r}")
        name, b64 = line[len(EM_DASH) :].split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        signatures.append((name, raw[:4], raw[4:]))
    return body, signatures


def parse_checkpoint(body):
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise Refused("checkpoint has fewer than three lines")
    origin, size, root = lines[0], lines[1], base64.b64decode(lines[2], validate=True)
    if not size.isdigit() or (size != "0" and size.startswith("0")) or len(root) != 32:
        raise Refused("bad tree size or root hash")
    return origin, int(size), root


def check(key, body, sig):
    """Verifies one signature by a known key; returns the cosignature timestamp, if any."""
    try:
        if key["kind"] == 0x01:
            key["key"].verify(sig, body.encode())
            return None
        if len(sig) != 72:
            raise Refused(f"cosignature by {key['name']} is not 8 + 64 bytes")
        (time,) = struct.unpack(">Q", sig[:8])
        message = f"cosignature/v1\ntime {time}\n".encode() + body.encode()
        key["key"].verify(sig[8:], message)
        return time
    except InvalidSignature:
        raise Refused(f"signature by {key['name']} does not verify")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", required=True)
    parser.add_argument("--log-vkey", required=True)
    parser.add_argument("--witness-vkey", action="append", default=[])
    parser.add_argument("--threshold", type=int, default=0)
    args = parser.parse_args()
    try:
        with open(args.note, "rb") as f:
            body, signatures = parse_note(f.read())
        origin, size, root = parse_checkpoint(body)
        log = parse_vkey(args.log_vkey)
        witnesses = [parse_vkey(v) for v in args.witness_vkey]
        if log["name"] != origin:
            raise Refused(f"log key {log['name']} is not the origin {origin}")
        log_ok, cosigned = False, set()
        for name, key_id, sig in signatures:
            for key in [log] + witnesses:
                if key["name"] == name and key["id"] == key_id:
                    check(key, body, sig)
                    if key is log:
                        log_ok = True
                    else:
                        cosigned.add(name)
        if not log_ok:
            raise Refused("no valid log signature")
        if len(cosigned) < args.threshold:
            raise Refused(f"{len(cosigned)} witnesses cosigned, {args.threshold} needed")
    except (Refused, ValueError, UnicodeDecodeError) as e:
        print(f"REFUSED: {e}")
        return 1
    print(f"VERIFIED {origin} {size} {base64.b64encode(root).decode()} cosigned-by {' '.join(sorted(cosigned))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
