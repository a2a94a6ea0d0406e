#!/bin/bash
# Customises the tier V base rootfs ($1) built by mmdebstrap. Runs once per cache key:
# scripts/lab hashes this file together with the package list, so editing it rebuilds the
# cached image. Nothing here may be specific to one lab instance or one VM: the address,
# the authorised ssh key and the hostname arrive on the kernel command line at boot
# (by.addr=, by.key=, systemd.hostname=) and are applied by brickyard-lab-init below.
set -euo pipefail
R=$1

echo lab > "$R/etc/hostname"
printf '127.0.0.1 localhost\n' > "$R/etc/hosts"
echo "LABEL=vmroot / ext4 defaults,noatime 0 1" > "$R/etc/fstab"
# Fresh identity per VM: empty machine-id (generated at boot, no first-boot prompt), no
# gluster UUID, no ssh host keys in the base.
: > "$R/etc/machine-id"
ln -sfn /dev/null "$R/etc/systemd/system/systemd-firstboot.service"
rm -f "$R/var/lib/glusterd/glusterd.info" "$R"/etc/ssh/ssh_host_*
# root password for the serial console only (sshd refuses passwords)
echo root:brickyard | chroot "$R" chpasswd

cat > "$R/usr/local/sbin/brickyard-lab-init" <<'INIT'
#!/bin/sh
# Applies the per-VM settings passed on the kernel command line, creates ssh host keys on
# first boot and prints the ed25519 host key on the serial console, where the lab host
# reads it for its known_hosts file (no trust-on-first-use over the network).
set -eu
addr= key=
for w in $(cat /proc/cmdline); do
    case $w in
        by.addr=*) addr=${w#by.addr=} ;;
        by.key=*) key=${w#by.key=} ;;
    esac
done
if [ -n "$addr" ]; then
    mkdir -p /run/systemd/network
    printf '[Match]\nName=en* eth*\n[Network]\nAddress=%s\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
        "$addr" > /run/systemd/network/10-lab.network
    printf '127.0.0.1 localhost\n%s %s\n' "${addr%/*}" "$(hostname)" > /etc/hosts
fi
if [ -n "$key" ]; then
    install -d -m 700 /root/.ssh
    echo "ssh-ed25519 $key brickyard-lab" > /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
fi
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A
echo "BRICKYARD-HOSTKEY $(cat /etc/ssh/ssh_host_ed25519_key.pub)" > /dev/ttyS0 || true
INIT
chmod 755 "$R/usr/local/sbin/brickyard-lab-init"

cat > "$R/etc/systemd/system/brickyard-lab-init.service" <<'UNIT'
[Unit]
Description=brickyard lab: per-VM address, ssh key and host keys
DefaultDependencies=no
After=local-fs.target systemd-remount-fs.service
Before=systemd-networkd.service ssh.service sysinit.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/brickyard-lab-init
[Install]
WantedBy=sysinit.target
UNIT

chroot "$R" systemctl enable -q systemd-networkd glusterd ssh brickyard-lab-init.service
install -d "$R/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=20\n' \
    > "$R/etc/systemd/system/systemd-networkd-wait-online.service.d/lab.conf"
printf 'UseDNS no\nPasswordAuthentication no\n' > "$R/etc/ssh/sshd_config.d/lab.conf"
install -d "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$R/etc/systemd/journald.conf.d/lab.conf"
