#!/usr/bin/env python3
"""Calls grpc.health.v1.Health/Check on a huren gateway over mutual TLS with Python grpcio.

A non-Rust client (BoringSSL underneath) proves the gateway speaks plain gRPC over mTLS.
Prints the serving status and exits 0, or prints why the call failed and exits 1.

    health_check.py --addr 127.0.0.1:7443 --ca root/ca.pem --cert client.pem --key client.key
    health_check.py --addr 127.0.0.1:7443 --ca root/ca.pem            # no client certificate
"""

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="host:port of the gateway")
    parser.add_argument("--ca", required=True, help="PEM of the national root CA")
    parser.add_argument("--cert", help="PEM client certificate chain")
    parser.add_argument("--key", help="PEM client private key")
    parser.add_argument("--service", default="", help="service name; empty = whole server")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(args.ca),
        private_key=read(args.key) if args.key else None,
        certificate_chain=read(args.cert) if args.cert else None,
    )
    # The gateway certificate names localhost and 127.0.0.1; check it against localhost.
    options = [("grpc.ssl_target_name_override", "localhost")]
    with grpc.secure_channel(args.addr, credentials, options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.RpcError as error:
            print(f"REFUSED {error.code().name}: {error.details()}")
            return 1
    print(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
