// SPDX-License-Identifier: GPL-2.0

//! `native_bench` on the packet program's JIT images as a guest dumped
//! them (`data/bench-mixed.log`: the `meta`, `syms`, `skb`, `image` and
//! `prog` lines of the `mixed` program from a `make bench` console log of
//! 2026-12-07, kernel of commit 83b1f49; regenerate it from
//! `out/logs/guest-bench.log` with grep if the dump format changes). Its
//! time means something only if every run took the packet's path up to the
//! flow lookup: a packet the program drops early must fail the run, not
//! give a ratio.

use std::process::Command;

const LOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bench-mixed.log");

/// The fixture's packet: Ethernet (type 0x0800), IPv4, UDP.
const IPV4_PKT: &str =
    "AgAAAAACAgAAAAABCABFAAAyEjRAAEARAAAKAAABCgAAAjA5ADUAHgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
/// The same bytes with Ethernet type 0x86dd (IPv6): the program stops
/// parsing before its flow lookup.
const IPV6_PKT: &str =
    "AgAAAAACAgAAAAABht1FAAAyEjRAAEARAAAKAAABCgAAAjA5ADUAHgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

/// Runs native_bench on `log` (one round, short batches); returns its exit
/// status, stderr and the JSON it wrote, if any.
fn run(log: &str, tag: &str) -> (Option<i32>, String, Option<String>) {
    let dir = std::env::temp_dir().join(format!("native_bench-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("guest-bench.log");
    let out_path = dir.join("native.json");
    std::fs::write(&log_path, log).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_native_bench"))
        .arg("--log")
        .arg(&log_path)
        .arg("--out")
        .arg(&out_path)
        .args(["--rounds", "1", "--batch-ms", "1"])
        .output()
        .expect("run native_bench");
    let json = std::fs::read_to_string(&out_path).ok();
    std::fs::remove_dir_all(&dir).unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
    )
}

#[test]
fn the_packet_program_runs_only_on_the_packets_path() {
    let log = std::fs::read_to_string(LOG).unwrap();
    assert_eq!(log.matches(IPV4_PKT).count(), 1, "the fixture's packet");

    let (code, stderr, json) = run(&log, "ipv4");
    assert_eq!(code, Some(0), "native_bench on the IPv4 packet: {stderr}");
    let json = json.expect("native.json written");
    assert!(
        json.contains("\"native_mixed_flow_lookups_per_run\":1.0000"),
        "one flow lookup per run: {json}"
    );
    assert!(
        json.contains("\"native_mixed_htab_updates\":0"),
        "no flow added: {json}"
    );
    assert!(
        json.contains("\"native_slow_path_entries_valid\":0"),
        "no slow path on valid accesses: {json}"
    );

    let (code, stderr, json) = run(&log.replace(IPV4_PKT, IPV6_PKT), "ipv6");
    assert_eq!(code, Some(1), "native_bench on the IPv6 packet: {stderr}");
    assert!(
        stderr.contains("flow lookups in") && stderr.contains("not the packet's path"),
        "the refusal names the cause: {stderr}"
    );
    assert!(json.is_none(), "no figures written for a run off the path");
}
