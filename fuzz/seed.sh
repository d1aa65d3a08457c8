#!/bin/sh
# Fills fuzz/corpus/<target>/ with starting inputs: every line of the flow-log fixtures (one
# file a line, gzip fixtures unpacked), the formats those files and the docs use, and the kept
# regression inputs (fuzz/regressions/<target>/), which include a full config and event log.
# Safe to rerun: libFuzzer names corpus files by content hash, seeds by line number.
set -eu
cd "$(dirname "$0")"
fixtures=../fixtures/flowlogs
for t in record_parser format_parser config_loader event_log_reader; do
    mkdir -p "corpus/$t"
    cp regressions/$t/* "corpus/$t/" 2>/dev/null || true
done

n=0
for f in "$fixtures"/*.log "$fixtures"/*.gz; do
    case "$f" in
    *.gz) text=$(gzip -dc "$f" 2>/dev/null || true) ;;
    *) text=$(cat "$f") ;;
    esac
    printf '%s\n' "$text" | while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" >"corpus/record_parser/seed-$(basename "$f")-$n"
    done
    # The first line is the header of S3-delivered files: also a format to parse.
    printf '%s' "$(printf '%s\n' "$text" | head -n 1)" >"corpus/format_parser/seed-header-$(basename "$f")"
done

# all-fields.log carries one field past KNOWN_FIELDS (a future field): without it, its lines
# fit the every-known-field format the record target also tries.
sed 's/ [^ ]*$//' "$fixtures/all-fields.log" | while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" >"corpus/record_parser/seed-all-known-fields-$n"
done

printf '%s' '${action} ${flow-direction} ${traffic-path} ${srcaddr} ${srcport} ${dstaddr} ${dstport} ${protocol} ${bytes} ${type} ${pkt-srcaddr} ${pkt-src-aws-service} ${pkt-dstaddr} ${pkt-dst-aws-service}' \
    >corpus/format_parser/seed-default
printf '%s' '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}' \
    >corpus/format_parser/seed-aws-v2
printf '%s' '${version} ${vpc-id} ${some-future-field} ${tcp-flags} ${reject-reason} ${ecs-task-id}' \
    >corpus/format_parser/seed-mixed

# The config tests' cases (`toml: "..."`, each a configuration with one thing wrong) and
# the event tests' lines (`r#"{"v":1,...}"#`).
n=0
sed -n 's/^ *toml: "\(.*\)",$/\1/p' ../src/config/tests.rs | while IFS= read -r text; do
    n=$((n + 1))
    printf '%b' "$(printf '%s' "$text" | sed 's/\\"/"/g')" >"corpus/config_loader/seed-config-test-$n"
done
sed -n 's/.*r#"\({"v.*}\)"#.*/\1/p' ../src/core/event/tests.rs | while IFS= read -r line; do
    n=$((n + 1))
    printf '%s\n' "$line" >"corpus/event_log_reader/seed-event-test-$n"
done

# Addresses in the forms flow logs and people write them, valid and nearly so.
mkdir -p corpus/address_parser
n=0
for a in 10.0.1.5 255.255.255.255 010.0.0.1 1.2.3 :: ::1 1:: 2001:db8::1 2001:DB8:1234:a100::15 \
    fe80:0000:0000:0000:0204:61ff:fe9d:f156 1:2:3:4:5:6:7:8 1:2:3:4:5:6:7:: ::2:3:4:5:6:7:8 \
    ::ffff:10.0.0.1 64:ff9b::192.0.2.33 1:::2 1::2::3 12345:: fe80::1%eth0; do
    n=$((n + 1))
    printf '%s' "$a" >"corpus/address_parser/seed-$n"
done
