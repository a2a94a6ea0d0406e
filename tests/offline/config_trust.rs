//! Trust-boundary rules of the config (issue 14, review trust-review.md): each test names
//! the review finding it proves and passes a config that 445b20a accepted.

use brickyard::config::{self, Format, codes};

/// A three-node config with `ssh` and node lines spliced in.
fn config_with(ssh: &str, nodes: &str) -> String {
    format!("cluster: prod\nssh: {ssh}\nnodes:\n{nodes}")
}

const NODES: &str = "  gfs1: { manage: 10.0.0.1, zone: 1, devices: [/dev/sdb] }\n  gfs2: { manage: 10.0.0.2, zone: 2, devices: [/dev/sdb] }\n  gfs3: { manage: 10.0.0.3, zone: 3, devices: [/dev/sdb] }\n";

fn codes_of(text: &str) -> Vec<&'static str> {
    config::parse_str("t.yaml", text, Format::Yaml)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

fn ssh_option_codes(option: &str) -> Vec<&'static str> {
    codes_of(&config_with(
        &format!("{{ options: [\"{option}\"] }}"),
        NODES,
    ))
}

#[test]
fn finding_10_ssh_options_that_run_code_or_weaken_host_keys_are_refused() {
    for o in [
        "ProxyCommand=nc %h %p",
        "proxycommand=nc",
        "LocalCommand=touch",
        "PermitLocalCommand=yes",
        "KnownHostsCommand=/bin/true",
        "UserKnownHostsFile=/dev/null",
        "GlobalKnownHostsFile=/etc/x",
        "StrictHostKeyChecking=no",
        "ForwardAgent=yes",
        "ForwardX11=yes",
        "RemoteCommand=id",
        "Include=/tmp/x",
        "Match=all",
        "ControlPath=/tmp/x",
        "ControlMaster=auto",
        "IdentityAgent=/tmp/sock",
        "PKCS11Provider=/tmp/x.so",
        "SecurityKeyProvider=/tmp/x.so",
        "Tunnel=yes",
        "TunnelDevice=any",
        "LocalForward=1:h:2",
        "RemoteForward=1:h:2",
        "DynamicForward=1080",
        "ProxyJump=evil",
        "BatchMode=no",
        "ConnectTimeout=5",
        "ServerAliveInterval=15;id",
    ] {
        assert_eq!(ssh_option_codes(o), vec![codes::SSH_OPTION], "{o}");
    }
}

#[test]
fn finding_10_connection_tuning_ssh_options_stay_allowed() {
    for o in [
        "ServerAliveInterval=15",
        "serveralivecountmax=3",
        "Compression=yes",
        "TCPKeepAlive=no",
        "ConnectionAttempts=2",
        "AddressFamily=inet",
        "IPQoS=af21 cs1",
        "Ciphers=aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
        "KexAlgorithms=+diffie-hellman-group14-sha256",
        "LogLevel=ERROR",
        "IdentitiesOnly=yes",
        "BatchMode=yes",
        // switching a proxy of the operator's own ssh config off is harmless
        "ProxyCommand=none",
        "ProxyJump=none",
        // trusting no system-wide host key only narrows trust (the lab gather test does)
        "GlobalKnownHostsFile=/dev/null",
        // the lab and scripts/bench-* keep their own known_hosts file
        "UserKnownHostsFile=/var/tmp/brickyard-lab/0/known_hosts",
        "UserKnownHostsFile=~/.ssh/brickyard_known_hosts",
    ] {
        assert_eq!(ssh_option_codes(o), Vec::<&str>::new(), "{o}");
    }
}

fn three_nodes(a: &str, b: &str) -> String {
    config_with(
        "{}",
        &format!(
            "  gfs1: {{ manage: \"{a}\", zone: 1, devices: [/dev/sdb] }}\n  gfs2: {{ manage: \"{b}\", zone: 2, devices: [/dev/sdb] }}\n  gfs3: {{ manage: 10.9.9.9, zone: 3, devices: [/dev/sdb] }}\n"
        ),
    )
}

#[test]
fn finding_12_numeric_ipv4_aliases_are_refused_with_the_dotted_quad() {
    for (alias, quad) in [
        ("0x0a.0.0.1", "10.0.0.1"),
        ("167772161", "10.0.0.1"),
        ("10.0.1", "10.0.0.1"),
        ("010.0.0.1", "8.0.0.1"),
        ("0xa000001", "10.0.0.1"),
    ] {
        let l = config::parse_str("t.yaml", &three_nodes(alias, "10.0.0.2"), Format::Yaml);
        let d: Vec<_> = l.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(d.len(), 1, "{alias}: {}", l.render(100, false));
        assert_eq!(d[0].code, codes::INVALID_ADDRESS, "{alias}");
        assert!(
            d[0].help.as_deref().unwrap_or("").contains(quad),
            "{alias}: {:?}",
            d[0].help
        );
    }
    assert_eq!(
        codes_of(&three_nodes("1.2.3.4.5", "10.0.0.2")),
        vec![codes::INVALID_ADDRESS]
    );
    assert_eq!(
        codes_of(&three_nodes("gfs-1.example", "10.0.0.2")),
        Vec::<&str>::new()
    );
}

#[test]
fn finding_12_duplicate_addresses_are_compared_normalised() {
    for (a, b) in [
        ("::1", "0:0:0:0:0:0:0:1"),
        ("fe80::A", "fe80::a"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("Gfs1.Example", "gfs1.example."),
    ] {
        // once for `manage`, once for `storage` (which defaults to it)
        assert_eq!(
            codes_of(&three_nodes(a, b)),
            vec![codes::DUPLICATE_ADDRESS, codes::DUPLICATE_ADDRESS],
            "{a} {b}"
        );
    }
}

fn disk_codes(field: &str, entry: &str) -> Vec<&'static str> {
    let other = if field == "devices" {
        "/dev/sdb"
    } else {
        "/bricks/d0"
    };
    codes_of(&config_with(
        "{}",
        &format!("  gfs1: {{ manage: 10.0.0.1, zone: 1, {field}: [\"{entry}\"] }}\n  gfs2: {{ manage: 10.0.0.2, zone: 2, {field}: [{other}] }}\n  gfs3: {{ manage: 10.0.0.3, zone: 3, {field}: [{other}] }}\n"),
    ))
    .into_iter()
    .filter(|c| *c == codes::INVALID_PATH || *c == codes::INVALID_DEVICE)
    .collect()
}

#[test]
fn finding_16_system_and_top_level_paths_are_refused() {
    for p in [
        "/var",
        "/root",
        "/root/bricks",
        "/home",
        "/lib64",
        "/lib64/x",
        "/tmp",
        "/tmp/bricks",
        "/var/lib/glusterd",
        "/var/lib/glusterd/vols",
        "/var/lib/brickyard",
        "/var/lib/brickyard/mounts",
        "/var/log",
        "/var/log/gluster",
        "/srv",
        "/bricks/",
    ] {
        assert_eq!(disk_codes("paths", p), vec![codes::INVALID_PATH], "{p}");
    }
    for p in [
        "/bricks/d0",
        "/bricks/d1",
        "/srv/bricks/a",
        "/data/gluster/",
        "/var/lib/bricks",
    ] {
        assert_eq!(disk_codes("paths", p), Vec::<&str>::new(), "{p}");
    }
}

#[test]
fn finding_16_devices_that_are_not_disks_are_refused() {
    for d in [
        "/dev/",
        "/dev",
        "/dev/null",
        "/dev/zero",
        "/dev/mem",
        "/dev/tty1",
        "/dev/shm/x",
        "/dev/pts/0",
    ] {
        assert_eq!(disk_codes("devices", d), vec![codes::INVALID_DEVICE], "{d}");
    }
    for d in [
        "/dev/sdb",
        "/dev/vdb",
        "/dev/disk/by-id/wwn-0x5000",
        "/dev/mapper/mpatha",
        "/dev/nvme0n1",
    ] {
        assert_eq!(disk_codes("devices", d), Vec::<&str>::new(), "{d}");
    }
}

#[test]
fn finding_17_a_file_full_of_errors_is_reported_capped() {
    let mut text = String::from("cluster: prod\nnodes:\n  gfs1: { manage: 10.0.0.1 }\n");
    for i in 0..20_000 {
        text.push_str(&format!("unknown_{i}: 1\n"));
    }
    // the cap is what bounds the cost (each finding renders a snippet of the file); the
    // cost itself is not timed here: timed tests flake on a loaded 2-core machine
    let l = config::parse_str("t.yaml", &text, Format::Yaml);
    let rendered = l.render(100, false);
    assert_eq!(l.diagnostics.len(), config::MAX_DIAGNOSTICS + 1);
    assert!(rendered.contains("more findings, not shown"));
}
