"""Export time of a recording through a proxy that enforces CloudWatch Logs' read quotas.

Run by benches/export-bench.sh (which builds the binary and uses the test venv's moto). It
starts moto on 127.0.0.1, puts a quota-enforcing proxy in front of it (a token bucket per
operation at AWS's documented rates, a ThrottlingException beyond), makes a NAT gateway spike,
lets the real `nat-flowrec check` start and stop a recording, seeds RECORDS flow-log records
into the recording's stream, and then measures, in one run:

  * moto's floor: the same GetLogEvents pages read directly from moto by boto3, one after the
    other (where moto is slower than the quota, this is the best any client can do);
  * `nat-flowrec export` with GetLogEvents, client pace 25/s (AWS's quota);
  * `nat-flowrec export` with FilterLogEvents, client pace 5/s (AWS's quota);

each against the time the quotas allow at best (pages / rate). Then the S3 destination: a
second NAT gateway records with `recording.destination = "s3"`, the same number of records is
seeded as gzip files in AWS's layout and naming (S3 has no account-wide read quota, so the proxy
only counts its requests), and the export is timed beside moto's floor for S3 (boto3 listing and
getting the files one after the other). Prints one table and the S3 line.
"""

import argparse
import gzip
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

import boto3

QUOTAS = {"GetLogEvents": 25.0, "FilterLogEvents": 5.0, "DescribeLogStreams": 5.0}
PAGE = 10_000
REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "nat-flowrec-bench"
# Records per delivered file: AWS publishes a file per flow log every 5 minutes, or sooner at
# 75 MB; 50,000 records of this format are about 5 MB.
FILE_RECORDS = 50_000


class Bucket:
    """AWS's quota as a token bucket holding one second of requests."""

    def __init__(self, rate):
        self.rate = rate
        self.tokens = rate
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


class QuotaProxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_port):
        super().__init__(("127.0.0.1", 0), QuotaHandler)
        self.upstream_port = upstream_port
        self.buckets = {op: Bucket(rate) for op, rate in QUOTAS.items()}
        self.calls = {}
        self.throttled = {}
        self.lock = threading.Lock()

    def count(self, table, op):
        with self.lock:
            table[op] = table.get(op, 0) + 1

    def reset(self):
        with self.lock:
            self.calls, self.throttled = {}, {}


class QuotaHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.forward()

    def do_GET(self):
        self.forward()

    def do_PUT(self):
        self.forward()

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        op = target.split(".")[-1] if target else ""
        if not target and self.command == "GET" and self.path.startswith(f"/{BUCKET}"):
            # S3 (path style): counted, never throttled.
            kind = "ListObjectsV2" if "list-type=2" in self.path else "GetObject"
            self.server.count(self.server.calls, kind)
        bucket = self.server.buckets.get(op)
        if bucket is not None:
            self.server.count(self.server.calls, op)
            if not bucket.take():
                self.server.count(self.server.throttled, op)
                answer = json.dumps(
                    {"__type": "ThrottlingException", "message": "Rate exceeded"}
                ).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                return
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(venv, enis):
    port = free_port()
    launcher = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_multi_eni.py")
    proc = subprocess.Popen(
        [os.path.join(venv, "bin", "python"), launcher, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, BENCH_NAT_ENIS=str(enis)),
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto_server did not start")


def client(service, port):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def run(binary, folder, endpoint, now, *args):
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.path.join(folder, "none"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(folder, "none"),
    )
    env.pop("AWS_PROFILE", None)
    cmd = [binary, *args, "--endpoint-url", endpoint, "--now", now.isoformat().replace("+00:00", "Z")]
    profile = os.environ.get("EXPORT_BENCH_PERF")
    if profile and args[0] == "export":
        # A profile of each export: perf record into EXPORT_BENCH_PERF-<n>.data.
        run.n = getattr(run, "n", 0) + 1
        cmd = ["perf", "record", "-F", "499", "-g", "-o", f"{profile}-{run.n}.data", "--", *cmd]
    out = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


CONFIG = """region = "us-east-1"
nat_gateway_ids = ["{nat}"]
state = "state/events.jsonl"

[recording]
log_group = "/nat-flowrec/bench"
deliver_logs_role_arn = "arn:aws:iam::123456789012:role/nat-flowrec-delivery"
recording_seconds = 0

[export]
read_api = "{api}"

[export.max_requests_per_second]
get_log_events = {rate}
filter_log_events = {rate_filter}
describe_log_streams = 5
"""

CONFIG_S3 = """region = "us-east-1"
nat_gateway_ids = ["{nat}"]
state = "state/events.jsonl"

[recording]
destination = "s3"
s3_destination = "s3://{bucket}"
recording_seconds = 0
# The seeded lines' format (AWS's default), so each file's header line is the recording's.
log_format = "${{version}} ${{account-id}} ${{interface-id}} ${{srcaddr}} ${{dstaddr}} ${{srcport}} ${{dstport}} ${{protocol}} ${{packets}} ${{bytes}} ${{start}} ${{end}} ${{action}} ${{log-status}}"
"""


def spike(cw, nat_id, t0):
    """A one-minute spike at t0, calm for the seven minutes after: one recording, stopped."""
    cw.put_metric_data(
        Namespace="AWS/NATGateway",
        MetricData=[
            {
                "MetricName": "BytesInFromSource",
                "Dimensions": [{"Name": "NatGatewayId", "Value": nat_id}],
                "Timestamp": t0 + timedelta(minutes=m),
                "Value": 500_000_000.0 if m == 0 else 1_000.0,
            }
            for m in range(0, 8)
        ],
    )


def delivered_file(header, lines):
    """One file as VPC Flow Logs writes it to S3: gzip, a header line, the records."""
    return gzip.compress(("\n".join([header, *lines]) + "\n").encode(), compresslevel=6)


def s3_destination(args, binary, endpoint, ec2, cw, proxy, moto_port, vpc, t0, nat_ip_of):
    """The S3 row: a second NAT records to the bucket; RECORDS records seeded as its files."""
    s3 = client("s3", moto_port)
    s3.create_bucket(Bucket=BUCKET)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]
    nat_id = nat["NatGatewayId"]
    nat_ip = nat_ip_of(nat)
    spike(cw, nat_id, t0)
    folder = tempfile.mkdtemp(prefix="export-bench-s3-")
    try:
        with open(os.path.join(folder, "nat-flowrec.toml"), "w") as f:
            f.write(CONFIG_S3.format(nat=nat_id, bucket=BUCKET))
        run(binary, folder, endpoint, t0 + timedelta(minutes=1, seconds=10), "check")
        run(binary, folder, endpoint, t0 + timedelta(minutes=6, seconds=10), "check")
        events = [json.loads(l) for l in open(os.path.join(folder, "state/events.jsonl"))]
        started = next(e for e in events if e.get("type") == "RecordingStarted")
        rec, flow_log = started["recording_id"], started["flow_log_ids"][0]

        # The files, where and as AWS names them (one hour-less day folder, default layout).
        at = t0 + timedelta(minutes=2)
        folder_key = f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{at:%Y/%m/%d}/"
        header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        start_s = int(at.timestamp())
        seeded = time.monotonic()
        files = 0
        for first in range(0, args.records, FILE_RECORDS):
            lines = [line(i, start_s + i % 180, nat_ip) for i in range(first, min(first + FILE_RECORDS, args.records))]
            name = f"{ACCOUNT}_vpcflowlogs_{REGION}_{flow_log}_{at:%Y%m%dT%H%MZ}_{files:08x}.log.gz"
            s3.put_object(Bucket=BUCKET, Key=folder_key + name, Body=delivered_file(header, lines))
            files += 1
        seeded = time.monotonic() - seeded

        # moto's floor for S3: list, then every file, one after the other.
        floor = time.monotonic()
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=folder_key) for o in page.get("Contents", [])]
        for key in keys:
            s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        floor = time.monotonic() - floor

        proxy.reset()
        began = time.monotonic()
        out = run(binary, folder, endpoint, t0 + timedelta(minutes=7), "export", "--recording", rec)
        took = time.monotonic() - began
        found = re.search(r"(\d+) records", out)
        records = int(found.group(1)) if found else None
        return dict(
            files=files,
            seeded=seeded,
            floor=floor,
            took=took,
            gets=proxy.calls.get("GetObject", 0),
            lists=proxy.calls.get("ListObjectsV2", 0),
            records=records,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)



def line(i, start, nat_ip):
    # AWS's default format, a NAT ENI's VPC-side and internet-side legs alternating.
    src = f"10.0.{(i // 250) % 250}.{i % 250 + 1}"
    return (
        f"2 123456789012 eni-bench {src} 52.94.{i % 200}.{i % 250} {40000 + i % 20000} 443 6 "
        f"{10 + i % 90} {1500 * (10 + i % 90)} {start} {start + 60} ACCEPT OK"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--venv", required=True)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--enis", type=int, default=4, help="network interfaces of the NAT gateway (one stream each)")
    args = parser.parse_args()

    moto, moto_port = start_moto(args.venv, args.enis)
    proxy = QuotaProxy(moto_port)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
    folder = tempfile.mkdtemp(prefix="export-bench-")
    try:
        ec2, cw, logs = client("ec2", moto_port), client("cloudwatch", moto_port), client("logs", moto_port)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]
        nat_id = nat["NatGatewayId"]

        t0 = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=2)
        spike(cw, nat_id, t0)
        with open(os.path.join(folder, "nat-flowrec.toml"), "w") as f:
            f.write(CONFIG.format(nat=nat_id, api="get_log_events", rate=25, rate_filter=5))
        run(args.binary, folder, endpoint, t0 + timedelta(minutes=1, seconds=10), "check")
        run(args.binary, folder, endpoint, t0 + timedelta(minutes=6, seconds=10), "check")
        events = [json.loads(l) for l in open(os.path.join(folder, "state/events.jsonl"))]
        rec = next(e["recording_id"] for e in events if e.get("type") in ("RecordingStarted", "recording_started"))

        # Seed the records into the streams the flow log delivers to (one per network interface
        # of the NAT, records dealt out in turn), inside the window.
        nat_ip_of_stream = {f"{a['NetworkInterfaceId']}-all": a["PrivateIp"] for a in nat["NatGatewayAddresses"]}
        streams = list(nat_ip_of_stream)
        assert len(streams) == args.enis, (streams, args.enis)
        for stream in streams:
            logs.create_log_stream(logGroupName="/nat-flowrec/bench", logStreamName=stream)
        start_s = int((t0 + timedelta(minutes=2)).timestamp())
        batches = {stream: [] for stream in streams}
        seeded = time.monotonic()

        def put(stream):
            batch = sorted(batches[stream], key=lambda e: e["timestamp"])
            logs.put_log_events(logGroupName="/nat-flowrec/bench", logStreamName=stream, logEvents=batch)
            batches[stream] = []

        for i in range(args.records):
            ts = (start_s + (i % 180)) * 1000
            stream = streams[i % len(streams)]
            message = line(i, start_s + i % 180, nat_ip_of_stream[stream])
            batches[stream].append({"timestamp": ts, "message": message})
            if len(batches[stream]) == 5_000:
                put(stream)
        for stream in streams:
            if batches[stream]:
                put(stream)
        seeded = time.monotonic() - seeded
        per_stream = [len(range(k, args.records, len(streams))) for k in range(len(streams))]
        pages = sum(-(-n // PAGE) for n in per_stream)

        # moto's floor: every stream's pages, one after the other, straight from moto.
        floor = time.monotonic()
        read = 0
        for stream in streams:
            token = None
            while True:
                kw = dict(logGroupName="/nat-flowrec/bench", logStreamName=stream, startFromHead=True, limit=PAGE)
                if token:
                    kw["nextToken"] = token
                page = logs.get_log_events(**kw)
                read += len(page["events"])
                if page["nextForwardToken"] == token:
                    break
                token = page["nextForwardToken"]
        floor = time.monotonic() - floor
        assert read == args.records, (read, args.records)

        rows = []
        for api, rate, rate_filter, quota in [
            ("get_log_events", 25, 5, QUOTAS["GetLogEvents"]),
            ("filter_log_events", 25, 5, QUOTAS["FilterLogEvents"]),
        ]:
            with open(os.path.join(folder, "nat-flowrec.toml"), "w") as f:
                f.write(CONFIG.format(nat=nat_id, api=api, rate=rate, rate_filter=rate_filter))
            shutil.rmtree(os.path.join(folder, "nat-flowrec-reports"), ignore_errors=True)
            proxy.reset()
            began = time.monotonic()
            out = run(args.binary, folder, endpoint, t0 + timedelta(minutes=7), "export", "--recording", rec)
            took = time.monotonic() - began
            exported = sum(
                1
                for f in os.listdir(os.path.join(folder, "nat-flowrec-reports", rec))
                if f.endswith(".log.gz")
            )
            op = "GetLogEvents" if api == "get_log_events" else "FilterLogEvents"
            calls, throttled = proxy.calls.get(op, 0), proxy.throttled.get(op, 0)
            found = re.search(r"(\d+) records", out)
            records = int(found.group(1)) if found else None
            rows.append((api, took, calls, throttled, pages / quota, records, exported))
        s3row = s3_destination(
            args, args.binary, endpoint, ec2, cw, proxy, moto_port, vpc, t0,
            lambda nat: nat["NatGatewayAddresses"][0]["PrivateIp"],
        )
        print(f"records seeded: {args.records} into {len(streams)} streams (one per network interface of the NAT) in {seeded:.1f} s; pages of {PAGE}: {pages}")
        print(f"moto's floor (boto3 reading every stream's pages directly, one after the other): {floor:.2f} s")
        print("| read | export s | calls | throttled | quota minimum s | best possible s | x best | records |")
        print("|---|---|---|---|---|---|---|---|")
        for api, took, calls, throttled, minimum, records, _ in rows:
            best = max(minimum, floor)
            print(f"| {api} | {took:.2f} | {calls} | {throttled} | {minimum:.2f} | {best:.2f} | {took / best:.2f} | {records} |")
        print("(quota minimum = pages / rate; the proxy's buckets start full, one second of requests, so a run may beat it by up to a second)")
        print(f"filter_log_events / get_log_events: {rows[1][1] / rows[0][1]:.2f}x")
        print(
            f"s3 destination: {s3row['records']} records in {s3row['files']} files (seeded in {s3row['seeded']:.1f} s); "
            f"export {s3row['took']:.2f} s with {s3row['lists']} ListObjectsV2 and {s3row['gets']} GetObject, 0 throttled; "
            f"moto's floor for S3 (boto3 listing and getting the files one after the other) {s3row['floor']:.2f} s; "
            f"get_log_events / s3: {rows[0][1] / s3row['took']:.2f}x"
        )
    finally:
        proxy.shutdown()
        moto.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
