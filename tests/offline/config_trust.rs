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
        // the lab and scripts/bench-* keep their own known_hosts file
        "UserKnownHostsFile=/var/tmp/brickyard-lab/0/known_hosts",
        "UserKnownHostsFile=~/.ssh/brickyard_known_hosts",
    ] {
        assert_eq!(ssh_option_codes(o), Vec::<&str>::new(), "{o}");
    }
}
