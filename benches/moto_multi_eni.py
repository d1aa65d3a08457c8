"""moto's server whose NAT gateways have several network interfaces, for benches/export_bench.py.

A recording covers every network interface of its NAT gateway (`NatGatewayAddresses[]`), one
flow-log stream each, and the export reads those streams in parallel. moto gives a NAT gateway
one interface, so the bench could only measure a one-stream recording, which the export must
read page after page. This launcher gives each NAT gateway created through it BENCH_NAT_ENIS
interfaces (default 1: moto's own behaviour), in the NAT's subnet, each listed as an address of
the gateway as AWS lists them (`networkInterfaceId`, `privateIp`). Bench only: the test suite
starts moto through tests/moto_launcher.py.

Usage is moto_server's: `BENCH_NAT_ENIS=4 python benches/moto_multi_eni.py -H 127.0.0.1 -p PORT`.
"""

import os
import sys

from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.server import main

ENIS = int(os.environ.get("BENCH_NAT_ENIS", "1"))
_create = NatGatewayBackend.create_nat_gateway


def create_nat_gateway(self, subnet_id, allocation_id, tags=None, connectivity_type="public"):
    nat = _create(self, subnet_id, allocation_id, tags, connectivity_type)
    subnet = self.get_subnet(subnet_id)
    for _ in range(ENIS - 1):
        eni = self.create_network_interface(subnet, [])
        nat.address_set.append(
            {"networkInterfaceId": eni.id, "privateIp": eni.private_ip_address}
        )
    return nat


NatGatewayBackend.create_nat_gateway = create_nat_gateway

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
